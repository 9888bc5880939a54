/**
 * The backend interface: a {@code Backend} turns an immutable {@code *Spec} into a prepared,
 * closeable {@code *Plan} (plan once, execute many). A backend may decline a spec; the caller then
 * falls back to the reference backend. Whoever makes a plan closes it.
 */
package org.streamdl.tensor.spi;

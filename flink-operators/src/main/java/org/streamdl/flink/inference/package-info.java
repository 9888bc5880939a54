/**
 * Micro-batched scoring operators and model hot-swap.
 */
package org.streamdl.flink.inference;

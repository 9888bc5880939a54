/**
 * Pure-Java reference kernels: the living definition of every op, the oracle that native kernels are
 * tested against, and the fallback where a native library cannot load. Kernels are written for
 * clarity first and speed second; they may use flat arrays, index arithmetic and manual loops.
 */
package org.streamdl.tensor.reference;

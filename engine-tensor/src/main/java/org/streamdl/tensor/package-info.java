/**
 * N-dimensional tensors over off-heap memory: {@link org.streamdl.tensor.DType},
 * {@link org.streamdl.tensor.Shape}, {@link org.streamdl.tensor.Tensor} and its views, and the
 * {@link org.streamdl.tensor.Allocator}s that own all tensor memory.
 *
 * <p>Package-wide contracts: arguments and results are non-null; tensors and cursors are confined to
 * one thread at a time (allocators are thread-safe); every tensor belongs to exactly one allocator,
 * and memory is freed when that allocator (or the owning tensor) closes, never by the garbage
 * collector. This module depends on the JDK only.
 */
package org.streamdl.tensor;

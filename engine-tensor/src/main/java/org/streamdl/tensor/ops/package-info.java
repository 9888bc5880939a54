/**
 * Operation families over tensors (element-wise, reductions, linear algebra, random fills,
 * conversions). Each family validates shapes and dtypes and names the op, the expected and the found
 * values on failure. Results are either written into a caller's tensor or allocated from a caller's
 * {@link org.streamdl.tensor.Allocator}; the caller owns them.
 */
package org.streamdl.tensor.ops;

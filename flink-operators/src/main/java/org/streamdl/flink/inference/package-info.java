/**
 * Micro-batched scoring with {@link org.streamdl.flink.inference.Predictor}, from a model file or
 * from a stream of model versions swapped in while the job runs.
 */
package org.streamdl.flink.inference;

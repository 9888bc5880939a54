/**
 * Micro-batched scoring ({@link org.streamdl.flink.inference.Predictor}); model hot-swap is to come.
 */
package org.streamdl.flink.inference;

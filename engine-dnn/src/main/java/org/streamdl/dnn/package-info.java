/**
 * Layers, losses, optimizers, initializers, models and the model file, on oneDNN with the pure-Java
 * reference kernels as fallback. Depends on engine-tensor, JavaCPP dnnl, Avro (model-file header) and
 * protobuf-java (ONNX reader) only: nothing of Flink or Kafka.
 */
package org.streamdl.dnn;

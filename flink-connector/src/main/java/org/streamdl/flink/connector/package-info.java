/**
 * Moves data between the outside world and StreamDL operators: Avro records for samples and
 * predictions, Flink type serializers for tensors, Kafka and file sources and sinks, dead letters.
 */
package org.streamdl.flink.connector;

/**
 * The Kafka-to-prediction Flink job: configuration, exactly-once output, metrics, dead letters.
 */
package org.streamdl.serving;

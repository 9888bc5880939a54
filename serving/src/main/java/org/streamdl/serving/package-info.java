/**
 * The Kafka-to-prediction job ({@link org.streamdl.serving.ServingJob}): options, exactly-once
 * output, dead letters.
 */
package org.streamdl.serving;

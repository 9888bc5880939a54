/**
 * Distributed data-parallel training on Flink: workers, parameter shards in keyed state, weights
 * returned through broadcast and an in-JVM feedback edge.
 */
package org.streamdl.flink.training;

/**
 * Distributed data-parallel training on Flink: {@link org.streamdl.flink.training.DistributedTraining}
 * turns a stream of samples into a stream of model snapshots. Workers compute gradients with the
 * engine, parameter shards hold weights and optimizer state in keyed state, and updated slices return
 * to the workers through broadcast and a co-located in-JVM back edge whose in-flight records are
 * logged into checkpoints.
 *
 * <p>Contracts: arguments are non-null; every operator runs on its task thread (the back edge
 * delivers through the worker's mailbox); records between operators are immutable and carry their
 * own Flink serializers, never Java serialization or Kryo.
 */
package org.streamdl.flink.training;

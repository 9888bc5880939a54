/**
 * JMH micro-benchmarks ({@code <Subject>Benchmark} in a sub-package named after the code measured)
 * and the runner of the reference workloads, which prints one JSON line per workload.
 */
package org.streamdl.benchmarks;

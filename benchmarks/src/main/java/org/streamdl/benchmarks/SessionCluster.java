package org.streamdl.benchmarks;

import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.apache.flink.client.deployment.executors.PipelineExecutorUtils;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.PipelineExecutor;
import org.apache.flink.core.execution.PipelineExecutorFactory;
import org.apache.flink.core.execution.PipelineExecutorServiceLoader;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.minicluster.MiniClusterJobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;

/**
 * An embedded Flink cluster that outlives its jobs, as a session cluster does: jobs submitted
 * through {@link #environment} run on the same JobManager and TaskManager (a local environment
 * starts a new MiniCluster for every job).
 */
final class SessionCluster implements AutoCloseable {
    private static final String EXECUTOR = "streamdl-session-minicluster";

    private final MiniCluster cluster;

    private SessionCluster(MiniCluster cluster) {
        this.cluster = cluster;
    }

    static SessionCluster start(Configuration conf, int slots) throws Exception {
        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder().setConfiguration(conf)
                .setNumTaskManagers(1).setNumSlotsPerTaskManager(slots).build());
        cluster.start();
        return new SessionCluster(cluster);
    }

    /** An environment whose jobs run on this cluster, at the given default parallelism. */
    StreamExecutionEnvironment environment(Configuration conf, int parallelism) {
        Configuration jobConf = new Configuration(conf);
        jobConf.set(DeploymentOptions.TARGET, EXECUTOR);
        jobConf.set(DeploymentOptions.ATTACHED, true);
        StreamExecutionEnvironment env = new StreamExecutionEnvironment(new Loader(), jobConf,
                SessionCluster.class.getClassLoader());
        env.setParallelism(parallelism);
        return env;
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }

    private final class Loader implements PipelineExecutorServiceLoader {
        @Override
        public PipelineExecutorFactory getExecutorFactory(Configuration configuration) {
            return new PipelineExecutorFactory() {
                @Override
                public String getName() {
                    return EXECUTOR;
                }

                @Override
                public boolean isCompatibleWith(Configuration c) {
                    return EXECUTOR.equals(c.get(DeploymentOptions.TARGET));
                }

                @Override
                public PipelineExecutor getExecutor(Configuration c) {
                    return (pipeline, jobConf, classLoader) -> {
                        StreamGraph graph = PipelineExecutorUtils.getStreamGraph(pipeline, jobConf);
                        graph.serializeUserDefinedInstances();
                        CompletableFuture<JobClient> client = cluster.submitJob(graph).thenApply(submitted ->
                                new MiniClusterJobClient(submitted.getJobID(), cluster, classLoader,
                                        MiniClusterJobClient.JobFinalizationBehavior.NOTHING));
                        return client;
                    };
                }
            };
        }

        @Override
        public Stream<String> getExecutorNames() {
            return Stream.of(EXECUTOR);
        }
    }
}

package org.streamdl.flink.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.ModelFile;
import org.streamdl.dnn.model.Models;
import org.streamdl.flink.connector.records.Prediction;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;
import org.streamdl.flink.connector.serialization.StreamDLTypes;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Rng;

/**
 * The predictor in a JVM with 128 MiB of direct memory (the {@code small-direct-memory} failsafe
 * execution), the MiniCluster's network buffers included, scoring 100,000 records whose arrival
 * comes in bursts and pauses, so batches of every size from 1 to 256 reach the model. Before native
 * memory was bounded, batch sizes that vary exhausted 256 MiB within a few dozen batches. No
 * restart is allowed: any failure fails the job.
 */
@Tag("small-direct-memory")
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class PredictorBoundedMemoryITCase {
    private static final int RECORDS = 100_000;

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setConfiguration(smallNetwork()).setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static Configuration smallNetwork() {
        Configuration conf = new Configuration();
        conf.set(TaskManagerOptions.NETWORK_MEMORY_MIN, MemorySize.ofMebiBytes(16));
        conf.set(TaskManagerOptions.NETWORK_MEMORY_MAX, MemorySize.ofMebiBytes(16));
        return conf;
    }

    @TempDir
    Path dir;

    /** Pixels for record i: a few distinct images, so the samples cost little to make. */
    private static final class Bursty implements MapFunction<Long, Sample> {
        private transient Rng rng;
        private transient float[][] images;

        @Override
        public Sample map(Long i) throws Exception {
            if (rng == null) {
                rng = new Rng(i);
                images = new float[16][28 * 28];
                for (float[] image : images) {
                    for (int p = 0; p < image.length; p++) {
                        image[p] = rng.nextFloat();
                    }
                }
            }
            if (rng.nextInt(400) == 0) {
                Thread.sleep(1 + rng.nextInt(6));   // a pause: the open batch goes out at its delay, part full
            }
            return Sample.builder().key(Long.toString(i))
                    .feature("input", TensorValue.ofFloats(images[(int) (i % images.length)], 1, 28, 28)).build();
        }
    }

    @Test
    void scoresAHundredThousandRecordsOfVaryingBatchSizeWithinASmallDirectMemory() throws Exception {
        assertEquals(128L << 20, Allocator.directMemoryLimitBytes(), "runs in the small-direct-memory JVM");
        Path modelFile = dir.resolve("lenet5.sdlm");
        try (Model lenet = Models.lenet5(5, Kernels.create(1))) {
            ModelFile.write(modelFile, lenet, Map.of());
        }
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "disable");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(500);
        DataStream<Sample> in = env.fromSequence(0, RECORDS - 1).map(new Bursty()).returns(StreamDLTypes.SAMPLE);
        Predictor.Result scored = Predictor.fromFile(modelFile.toString(), 1, 28, 28)
                .maxBatchSize(256).maxBatchDelay(Duration.ofMillis(2)).build().predict(in);
        DataStream.Collector<Prediction> predictions = new DataStream.Collector<>();
        scored.predictions().collectAsync(predictions);
        JobClient job = env.executeAsync("predictor in a small direct memory");   // read while it runs: a full collect buffer would stall it

        BitSet answered = new BitSet(RECORDS);
        Map<Long, Integer> batchSizes = new HashMap<>();   // predictions of one batch share their predictedAt
        try (CloseableIterator<Prediction> it = predictions.getOutput()) {
            while (it.hasNext()) {
                Prediction p = it.next();
                int i = Integer.parseInt(p.key());
                assertTrue(!answered.get(i), "answered twice: " + i);
                answered.set(i);
                batchSizes.merge(p.predictedAt(), 1, Integer::sum);
            }
        }
        job.getJobExecutionResult().get();   // finished, and without a restart: the restart strategy is disabled
        assertEquals(RECORDS, answered.cardinality(), "every record answered");
        long distinctSizes = batchSizes.values().stream().distinct().count();
        assertTrue(distinctSizes > 20, "batches of " + distinctSizes + " sizes reached the model");
    }
}

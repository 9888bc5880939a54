package org.streamdl.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.types.Row;
import org.streamdl.dnn.data.InMemoryDataset;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.ModelFile;
import org.streamdl.dnn.quantize.Quantizer;
import org.streamdl.flink.connector.decode.DecodedSamples;
import org.streamdl.flink.connector.files.FileSamples;
import org.streamdl.flink.connector.formats.SampleSpec;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.inference.Predictor;
import org.streamdl.flink.sql.StreamDLPredict;
import org.streamdl.tensor.DType;

/**
 * SQL1: the 10,000 Fashion-MNIST test images from the bounded IDX file source, scored by the
 * trained LeNet-5 (lenet5.onnx) four ways, each into a discarding sink, in the same run and on the
 * same embedded cluster: {@code ML_PREDICT} with the {@code streamdl} provider (async, float32 and
 * int8), the DataStream {@code Predictor} (int8), and a scalar UDF that calls ONNX Runtime for each
 * row, which is what SQL users write without a model provider; beside them StreamDL's own scalar
 * function ({@code udf_streamdl_fp32_img_s}), which also scores one row at a time.
 *
 * <p>Each figure is images / the job's net run time (from its start on the cluster to its end,
 * with the model loading in each task's open; planning and submission left out), the median of
 * five rounds in which every job runs once, after one untimed rehearsal round, all on the same
 * cluster, as a long-running session cluster would run them. The int8 model is quantized once, max-abs on the first 1024
 * training images, and written as a model file both int8 paths read.
 */
final class SqlWorkloads {
    private static final int REHEARSALS = 1;
    private static final int TIMED = 5;
    private static final int BATCH = 256;

    private SqlWorkloads() {}

    static Map<String, Object> sql1(WorkloadRunner.Options options) throws Exception {
        Path data = Path.of(options.data());
        Path images = data.resolve("t10k-images-idx3-ubyte.gz");
        Path labels = data.resolve("t10k-labels-idx1-ubyte.gz");
        Path dir = Files.createTempDirectory("streamdl-sql1");
        Path fp32 = dir.resolve("lenet5.sdlm");
        Path int8 = dir.resolve("lenet5-int8.sdlm");
        try (Model model = InferenceWorkloads.importLenet5(options.threads())) {
            ModelFile.write(fp32, model, Map.of());
            try (Quantizer.Quantized q = InferenceWorkloads.quantize(model, InMemoryDataset.fashionMnist(data, "train"),
                    options.threads())) {
                ModelFile.write(int8, q.model(), Map.of());
            }
        }
        int parallelism = options.parallelism();
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        // without it every chained SQL operator deep-copies each row, 784 pixels included: measured
        // as most of ML_PREDICT's task thread, which then ran at half the DataStream Predictor's rate
        conf.set(PipelineOptions.OBJECT_REUSE, true);
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, parallelism);
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("images", InMemoryDataset.fashionMnist(data, "t10k").size());
        figures.put("parallelism", parallelism);
        try (SessionCluster cluster = SessionCluster.start(conf, parallelism)) {
            Map<String, Job> jobs = new LinkedHashMap<>();
            jobs.put("ml_predict_fp32_img_s", () -> mlPredict(cluster, conf, options, images, labels, fp32));
            jobs.put("ml_predict_int8_img_s", () -> mlPredict(cluster, conf, options, images, labels, int8));
            jobs.put("datastream_int8_img_s", () -> predictor(cluster, conf, options, images, labels, int8));
            jobs.put("udf_onnxruntime_img_s", () -> onnxRuntimeUdf(cluster, conf, options, images, labels));
            jobs.put("udf_streamdl_fp32_img_s", () -> streamdlUdf(cluster, conf, options, images, labels, fp32));
            figures.putAll(rates(jobs, (Integer) figures.get("images")));
        } finally {
            Files.deleteIfExists(fp32);
            Files.deleteIfExists(int8);
            Files.deleteIfExists(dir);
        }
        figures.put("ml_predict_int8_vs_datastream", WorkloadRunner.round(
                (Double) figures.get("ml_predict_int8_img_s") / (Double) figures.get("datastream_int8_img_s"), 3));
        figures.put("ml_predict_int8_vs_udf_onnxruntime", WorkloadRunner.round(
                (Double) figures.get("ml_predict_int8_img_s") / (Double) figures.get("udf_onnxruntime_img_s"), 3));
        figures.put("batching", "max " + BATCH + " rows, 10 ms; ML_PREDICT max-concurrent-operations " + 2 * BATCH);
        figures.put("object_reuse", true);
        figures.put("timing", "images / median net job run time of " + TIMED + " rounds (every job once per round, "
                + "rotating order), after " + REHEARSALS + " rehearsal round, on the same cluster");
        return figures;
    }

    /** A job that runs to its end; returns its wall time in seconds. */
    private interface Job {
        double run() throws Exception;
    }

    /**
     * Images/s of each job: the median of {@link #TIMED} rounds after {@link #REHEARSALS} untimed
     * ones, every job once per round in rotating order, so that the machine's slow phases (seconds
     * long, on a shared 2-core VM) fall on all of them alike.
     */
    private static Map<String, Object> rates(Map<String, Job> jobs, int images) throws Exception {
        java.util.List<String> names = new java.util.ArrayList<>(jobs.keySet());
        for (int i = 0; i < REHEARSALS; i++) {
            for (Job job : jobs.values()) {
                job.run();
            }
        }
        WorkloadRunner.settleJit();
        Map<String, double[]> seconds = new LinkedHashMap<>();
        names.forEach(n -> seconds.put(n, new double[TIMED]));
        for (int round = 0; round < TIMED; round++) {
            for (int k = 0; k < names.size(); k++) {
                String name = names.get((round + k) % names.size());
                seconds.get(name)[round] = jobs.get(name).run();
            }
        }
        Map<String, Object> rates = new LinkedHashMap<>();
        for (String name : names) {
            double[] s = seconds.get(name);
            java.util.Arrays.sort(s);
            rates.put(name, WorkloadRunner.round(images / s[TIMED / 2], 1));
        }
        return rates;
    }

    /** The test images as rows (id, pixels ARRAY<FLOAT>) in a table {@code images}. */
    private static StreamTableEnvironment tables(SessionCluster cluster, Configuration conf, WorkloadRunner.Options options,
                                                 Path images, Path labels) throws java.io.IOException {
        StreamExecutionEnvironment env = cluster.environment(conf, options.parallelism());
        TypeInformation<Row> rowType = Types.ROW_NAMED(new String[] {"id", "pixels"}, Types.LONG,
                Types.PRIMITIVE_ARRAY(Types.FLOAT));
        DataStream<Row> rows = samples(env, images, labels)
                .map(s -> Row.of(s.eventTime(), s.singleFeature().toFloats())).returns(rowType);
        StreamTableEnvironment tEnv = StreamTableEnvironment.create(env);
        tEnv.createTemporaryView("images", tEnv.fromDataStream(rows, Schema.newBuilder()
                .column("id", "BIGINT")
                .column("pixels", DataTypes.ARRAY(DataTypes.FLOAT().notNull()).bridgedTo(float[].class)).build()));
        tEnv.executeSql("CREATE TEMPORARY TABLE discard (id BIGINT, label INT) WITH ('connector' = 'blackhole')");
        return tEnv;
    }

    private static DataStream<Sample> samples(StreamExecutionEnvironment env, Path images, Path labels)
            throws java.io.IOException {
        SampleSpec spec = SampleSpec.builder().feature("input", DType.FLOAT32, 1, 28, 28).classLabel(10).build();
        DecodedSamples decoded = FileSamples.idx(env, images.toString(), labels.toString(), spec);
        return decoded.samples();
    }

    private static double mlPredict(SessionCluster cluster, Configuration conf, WorkloadRunner.Options options, Path images,
                                    Path labels, Path model) throws Exception {
        StreamTableEnvironment tEnv = tables(cluster, conf, options, images, labels);
        tEnv.executeSql("CREATE TEMPORARY MODEL lenet INPUT (pixels ARRAY<FLOAT NOT NULL>) OUTPUT (label INT) WITH ("
                + "'provider' = 'streamdl', 'path' = '" + model.toUri() + "', 'feature-shape' = '1,28,28', "
                + "'threads' = '" + options.threads() + "', 'max-batch-size' = '" + BATCH + "', 'max-batch-delay' = '10 ms')");
        return seconds(tEnv.executeSql("INSERT INTO discard SELECT id, label FROM ML_PREDICT(TABLE images, MODEL lenet, "
                + "DESCRIPTOR(pixels), MAP['async', 'true', 'max-concurrent-operations', '" + 2 * BATCH + "'])")
                .getJobClient().orElseThrow());
    }

    private static double predictor(SessionCluster cluster, Configuration conf, WorkloadRunner.Options options, Path images,
                                    Path labels, Path model) throws Exception {
        StreamExecutionEnvironment env = cluster.environment(conf, options.parallelism());
        Predictor.fromFile(model.toString(), 1, 28, 28).maxBatchSize(BATCH).maxBatchDelay(Duration.ofMillis(10))
                .threads(options.threads()).build()
                .predict(samples(env, images, labels)).predictions().sinkTo(new DiscardingSink<>());
        return seconds(env.executeAsync("SQL1 DataStream Predictor"));
    }

    private static double onnxRuntimeUdf(SessionCluster cluster, Configuration conf, WorkloadRunner.Options options,
                                         Path images, Path labels) throws Exception {
        StreamTableEnvironment tEnv = tables(cluster, conf, options, images, labels);
        tEnv.createTemporarySystemFunction("ort_predict", new OnnxRuntimeUdf(options.threads()));
        return seconds(tEnv.executeSql("INSERT INTO discard SELECT id, ort_predict(pixels) FROM images")
                .getJobClient().orElseThrow());
    }

    /** StreamDL's own scalar function, one forward pass of batch 1 per row: the cost docs/sql.md states. */
    private static double streamdlUdf(SessionCluster cluster, Configuration conf, WorkloadRunner.Options options,
                                      Path images, Path labels, Path model) throws Exception {
        StreamTableEnvironment tEnv = tables(cluster, conf, options, images, labels);
        tEnv.createTemporarySystemFunction("streamdl_predict", StreamDLPredict.class);
        return seconds(tEnv.executeSql("INSERT INTO discard SELECT id, streamdl_predict('" + model.toUri()
                + "', pixels, '1,28,28') FROM images").getJobClient().orElseThrow());
    }

    /** The job's run time as its JobManager measured it, in seconds: planning and submission are left out on every side. */
    private static double seconds(JobClient job) throws Exception {
        return job.getJobExecutionResult().get().getNetRuntime() / 1e3;
    }

    /** The per-row scalar UDF SQL users write today: lenet5.onnx on ONNX Runtime, one session run per row. */
    public static final class OnnxRuntimeUdf extends ScalarFunction {
        private static final long serialVersionUID = 1L;

        private final int threads;
        private transient OrtEnvironment env;
        private transient OrtSession session;

        OnnxRuntimeUdf(int threads) {
            this.threads = threads;
        }

        @Override
        public void open(FunctionContext context) throws Exception {
            env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
                so.setIntraOpNumThreads(threads);
                so.setInterOpNumThreads(1);
                so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                session = env.createSession(OnnxRuntimeBaseline.model("lenet5.onnx"), so);
            }
        }

        public Integer eval(float[] pixels) throws OrtException {
            try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(pixels), new long[] {1, 1, 28, 28});
                 OrtSession.Result result = session.run(Map.of("input", x))) {
                float[] logits = ((float[][]) result.get(0).getValue())[0];
                int best = 0;
                for (int j = 1; j < logits.length; j++) {
                    best = logits[j] > logits[best] ? j : best;
                }
                return best;
            }
        }

        @Override
        public void close() throws Exception {
            if (session != null) {
                session.close();
            }
        }
    }
}

package org.streamdl.benchmarks.tensor.reference;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.RandomFill;
import org.streamdl.tensor.reference.ReferenceBackend;
import org.streamdl.tensor.spi.MatmulPlan;
import org.streamdl.tensor.spi.MatmulSpec;

/**
 * The reference float32 GEMM on 1024×1024×1024 (workload G1's shape). JMH reports milliseconds per
 * product; GFLOP/s = 2.147 / (ms per op / 1000), printed to stderr at tear-down as well.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class GemmBenchmark {
    static final int SIZE = 1024;

    @Param({"1", "2"})
    public int threads;

    private Allocator allocator;
    private ReferenceBackend backend;
    private MatmulPlan plan;
    private Tensor a;
    private Tensor b;
    private Tensor c;
    private long calls;
    private long startNanos;

    @Setup(Level.Trial)
    public void setUp() {
        allocator = Allocator.root("gemm-benchmark", 64L << 20);
        a = allocator.allocate(DType.FLOAT32, SIZE, SIZE);
        b = allocator.allocate(DType.FLOAT32, SIZE, SIZE);
        c = allocator.allocate(DType.FLOAT32, SIZE, SIZE);
        Rng rng = new Rng(42);
        RandomFill.uniform(a, -1, 1, rng);
        RandomFill.uniform(b, -1, 1, rng);
        backend = ReferenceBackend.create(threads);
        plan = backend.planMatmul(MatmulSpec.of(Shape.of(SIZE, SIZE), Shape.of(SIZE, SIZE)), allocator).orElseThrow();
    }

    @Setup(Level.Iteration)
    public void startIteration() {
        calls = 0;
        startNanos = System.nanoTime();
    }

    @Benchmark
    public Tensor gemm() {
        plan.execute(a, b, c);
        calls++;
        return c;
    }

    @TearDown(Level.Iteration)
    public void reportIteration() {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        System.err.printf("reference gemm %dx%dx%d, %d thread(s): %.1f GFLOP/s%n",
                SIZE, SIZE, SIZE, threads, calls * 2.0 * SIZE * SIZE * SIZE / seconds / 1e9);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        plan.close();
        backend.close();
        allocator.close();   // throws if anything leaked a child allocator
    }
}

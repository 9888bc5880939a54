package org.streamdl.flink.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.streamdl.flink.connector.records.ModelSnapshot;
import org.streamdl.flink.connector.records.Sample;

/**
 * One worker and its shard in Flink's operator harnesses, wired by hand: the test moves gradient
 * slices to the shard and weight slices back through the feedback channel, so it decides what is in
 * flight when the worker takes its snapshot.
 */
class TrainingWorkerOperatorTest {
    private static final int BATCH = 8;
    private static final int SLICES = 2;
    private static final int MAX_PARALLELISM = 128;
    private static final int[] KEYS = ParameterLayout.balancedKeys(SLICES, 1, MAX_PARALLELISM);
    private static final int SAMPLES = 6 * BATCH;

    /** A worker harness and a shard harness joined by the test thread. */
    private static final class Loop implements AutoCloseable {
        final String loopId;
        final OneInputStreamOperatorTestHarness<Sample, GradientSlice> worker;
        final KeyedOneInputStreamOperatorTestHarness<Integer, GradientSlice, WeightSlice> shard;
        final List<WeightSlice> heldBack = new ArrayList<>();

        Loop(String loopId, OperatorSubtaskState workerState, OperatorSubtaskState shardState) throws Exception {
            this.loopId = loopId;
            LoopConfig config = new LoopConfig(loopId, 1, SLICES, KEYS, BATCH, 1, 0, 0, 1, 0, 1, null, 42, Map.of());
            worker = new OneInputStreamOperatorTestHarness<>(new TrainingWorkerOperatorFactory(Blobs.recipe(), config), 1, 1, 0);
            shard = new KeyedOneInputStreamOperatorTestHarness<>(new ParameterShardOperator(Blobs.recipe(), 1, KEYS),
                    new DistributedTraining.SliceKey(KEYS), Types.INT, MAX_PARALLELISM, 1, 0);
            if (workerState != null) {
                worker.initializeState(workerState);
                shard.initializeState(shardState);
            }
            shard.open();
            worker.open();
        }

        FeedbackChannel channel() {
            return FeedbackChannel.of(loopId, 0, 0);
        }

        /** Moves gradients to the shard; the new weights go back to the worker, or are held back if asked. */
        void pump(boolean holdBack) throws Exception {
            boolean moved = true;
            while (moved) {
                moved = false;
                Object o;
                while ((o = worker.getOutput().poll()) != null) {
                    if (o instanceof StreamRecord<?> r) {
                        shard.processElement(new StreamRecord<>((GradientSlice) r.getValue()));
                        moved = true;
                    }
                }
                while ((o = shard.getOutput().poll()) != null) {
                    if (o instanceof StreamRecord<?> r) {
                        if (holdBack) {
                            heldBack.add((WeightSlice) r.getValue());
                        } else {
                            channel().put(FeedbackChannel.Item.slice((WeightSlice) r.getValue()));
                        }
                        moved = true;
                    }
                }
                moved |= runMails();
            }
        }

        boolean runMails() throws Exception {
            boolean ran = false;
            Optional<Mail> mail;
            while ((mail = worker.getTaskMailbox().tryTake(TaskMailbox.MIN_PRIORITY)).isPresent()) {
                mail.get().run();
                ran = true;
            }
            return ran;
        }

        void feed(int from, int to) throws Exception {
            for (int i = from; i < to; i++) {
                worker.processElement(Blobs.sample(1, i), 0);
                pump(false);
            }
        }

        List<ModelSnapshot> snapshots() {
            List<ModelSnapshot> out = new ArrayList<>();
            for (StreamRecord<ModelSnapshot> r : worker.getSideOutput(TrainingWorkerOperator.SNAPSHOTS)) {
                out.add(r.getValue());
            }
            return out;
        }

        @Override
        public void close() throws Exception {
            worker.close();
            shard.close();
        }
    }

    @Test
    void aWorkerThatNeverReceivesItsWeightsReportsTheMissingSlices() throws Exception {
        try (Loop loop = new Loop("stalled", null, null)) {
            loop.worker.setProcessingTime(0);
            loop.feed(0, BATCH - 1);
            loop.worker.processElement(Blobs.sample(1, BATCH - 1), 0);
            loop.pump(true);                           // step 1's weights never reach the worker
            assertEquals(SLICES, loop.heldBack.size());
            TrainingWorkerOperator worker = (TrainingWorkerOperator) loop.worker.getOneInputOperator();
            loop.worker.setProcessingTime(TrainingWorkerOperator.STALL_REPORT_MILLIS / 3);    // the wait is noticed
            assertEquals(null, worker.stallReport());
            loop.worker.setProcessingTime(2 * TrainingWorkerOperator.STALL_REPORT_MILLIS);
            String report = worker.stallReport();
            assertTrue(report != null && report.startsWith("training worker 0 has waited ")
                    && report.contains("for weights after version 0 (it contributed up to step 1): version 1 misses"
                    + " slices [0, 1] of 2"), String.valueOf(report));
        }
    }

    @Test
    void workerRestoredWithWeightsOnTheBackEdgeContinuesLikeAnUninterruptedOne() throws Exception {
        List<ModelSnapshot> uninterrupted;
        try (Loop loop = new Loop("uninterrupted", null, null)) {
            loop.feed(0, SAMPLES);
            uninterrupted = loop.snapshots();
        }
        assertEquals(6, uninterrupted.size(), "one snapshot per version");

        int cut = 3 * BATCH;
        List<ModelSnapshot> resumed = new ArrayList<>();
        OperatorSubtaskState workerState;
        OperatorSubtaskState shardState;
        try (Loop loop = new Loop("interrupted", null, null)) {
            loop.feed(0, cut - 1);
            loop.worker.processElement(Blobs.sample(1, cut - 1), 0);
            loop.pump(true);                           // step 3 applied by the shard, its weights still in flight
            assertEquals(SLICES, loop.heldBack.size());
            shardState = loop.shard.snapshot(1, 1);
            Thread snapshotting = Thread.currentThread();
            CompletableFuture<OperatorSubtaskState> snapshot = CompletableFuture.supplyAsync(() -> {
                try {
                    return loop.worker.snapshot(1, 1);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            awaitBlocked(snapshot, snapshotting);
            for (WeightSlice w : loop.heldBack) {      // the back edge delivers after the worker's snapshot...
                loop.channel().put(FeedbackChannel.Item.slice(w));
            }
            loop.channel().put(FeedbackChannel.Item.marker(1));   // ...then the tail's marker closes the log
            loop.runMails();
            workerState = snapshot.get();
            resumed.addAll(loop.snapshots());
        }
        try (Loop loop = new Loop("interrupted", workerState, shardState)) {
            resumed.addAll(loop.snapshots());          // version 3, replayed from the logged back edge
            loop.feed(cut, SAMPLES);
            resumed.addAll(loop.snapshots().subList(1, loop.snapshots().size()));
        }
        assertEquals(uninterrupted.size() + 1, resumed.size(), "version 3 is seen before the snapshot and after the restore");
        resumed.remove(3);
        for (int i = 0; i < uninterrupted.size(); i++) {
            assertEquals(uninterrupted.get(i).version(), resumed.get(i).version());
            assertEquals(uninterrupted.get(i).samplesApplied(), resumed.get(i).samplesApplied());
            assertArrayEquals(uninterrupted.get(i).modelFile(), resumed.get(i).modelFile(), "model of version " + (i + 1));
        }
    }

    /** Waits until the snapshot is held open by the back-edge lease (the snapshotting thread parks). */
    private static void awaitBlocked(CompletableFuture<?> snapshot, Thread self) {
        while (!snapshot.isDone()) {
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t != self && (t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING)
                        && isClosingLeasedStream(t)) {
                    return;
                }
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("the snapshot completed while weights were still on the back edge");
    }

    private static boolean isClosingLeasedStream(Thread t) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getMethodName().equals("closeAndGetHandleAfterLeasesReleased")) {
                return true;
            }
        }
        return false;
    }

    @Test
    void modelSnapshotsCarryProvenanceAndCountSamples() throws Exception {
        try (Loop loop = new Loop("provenance", null, null)) {
            loop.feed(0, 2 * BATCH + 3);
            List<ModelSnapshot> snapshots = loop.snapshots();
            assertEquals(2, snapshots.size());
            assertEquals(2L * BATCH, snapshots.get(1).samplesApplied());
            var contents = ModelBytes.read(snapshots.get(1).modelFile(), "v2", org.streamdl.dnn.Kernels.create(1));
            try (var model = contents.model()) {
                assertEquals("16", contents.provenance().get("training.samplesApplied"));
                assertEquals("2", contents.provenance().get("training.version"));
                assertTrue(model.parameterCount() > 0);
            }
        }
    }

    /** A task cancelled during a restart closes its operators before their state was initialized. */
    @Test
    void aWorkerClosedBeforeItWasInitializedClosesQuietly() throws Exception {
        LoopConfig config = new LoopConfig("never-opened", 1, SLICES, KEYS, BATCH, 1, 0, 0, 1, 0, 1, null, 42, Map.of());
        try (OneInputStreamOperatorTestHarness<Sample, GradientSlice> worker =
                     new OneInputStreamOperatorTestHarness<>(new TrainingWorkerOperatorFactory(Blobs.recipe(), config), 1, 1, 0)) {
            worker.setup();
            worker.getOperator().close();   // threw a NullPointerException, which Flink treats as fatal to the TaskManager
        }
    }
}

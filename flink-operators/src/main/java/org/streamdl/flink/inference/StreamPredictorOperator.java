package org.streamdl.flink.inference;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.streamdl.dnn.model.Model;
import org.streamdl.flink.connector.records.ModelSnapshot;
import org.streamdl.flink.connector.records.Prediction;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.serialization.StreamDLTypes;

/**
 * A predictor whose models arrive as a stream, broadcast to every subtask. Samples that come
 * before the first model wait in operator state. A newer model replaces the current one between
 * batches: the open batch is answered by the model it was collected under. A model that does not
 * read, or does not take the samples' shape, is refused and counted ({@code rejectedModels}); the
 * current one stays. The current model is kept in the checkpoint, so a restored job answers at once
 * without waiting for the model stream to send it again.
 */
final class StreamPredictorOperator extends BatchingPredictorOperator
        implements TwoInputStreamOperator<Sample, ModelSnapshot, Prediction> {
    private static final long serialVersionUID = 1L;

    private transient ListState<ModelSnapshot> modelState;
    private transient ListState<Sample> waitingState;
    private transient ModelSnapshot current;
    private transient List<Sample> waiting;
    private transient List<Long> waitingSince;   // arrival times; a restored sample counts from the restore
    private transient Counter rejectedModels;

    StreamPredictorOperator(String modelName, long[] featureShape, int maxBatchSize, long maxBatchDelayMillis, int threads) {
        super(modelName, featureShape, maxBatchSize, maxBatchDelayMillis, threads);
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        // every subtask holds the same model at a barrier; one copy in the checkpoint, restored to all
        modelState = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>("model", StreamDLTypes.MODEL_SNAPSHOT));
        waitingState = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("samples-waiting-for-a-model", StreamDLTypes.SAMPLE));
        waiting = new ArrayList<>();
        waitingSince = new ArrayList<>();
        for (ModelSnapshot m : modelState.get()) {
            current = current == null || m.version() > current.version() ? m : current;
        }
        long now = getProcessingTimeService().getCurrentProcessingTime();
        for (Sample s : waitingState.get()) {
            waiting.add(s);
            waitingSince.add(now);
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        rejectedModels = getMetricGroup().counter("rejectedModels");
        if (current != null) {
            swapModel(load(current.modelFile(), current.modelName()), current.version());
            drainWaiting();
        }
    }

    @Override
    public void processElement1(StreamRecord<Sample> element) throws Exception {
        if (hasModel()) {
            accept(element.getValue());
        } else {
            waiting.add(element.getValue());
            waitingSince.add(getProcessingTimeService().getCurrentProcessingTime());
        }
    }

    @Override
    public void processElement2(StreamRecord<ModelSnapshot> element) throws Exception {
        ModelSnapshot next = element.getValue();
        if (current != null && next.version() <= current.version()) {
            return;   // a replay or an older version: the newer model stays
        }
        Model model;
        try {
            model = load(next.modelFile(), next.modelName() + "-v" + next.version());
            try {
                ModelChecks.outputWidth(model, featureShape, next.modelName() + " v" + next.version());
            } catch (IllegalArgumentException e) {
                model.close();
                throw e;
            }
        } catch (Exception e) {
            rejectedModels.inc();
            LOG.warn("refused model {} v{} and kept {}: {}", next.modelName(), next.version(),
                    current == null ? "waiting for a model" : "v" + current.version(), e.getMessage());
            return;
        }
        swapModel(model, next.version());
        current = next;
        drainWaiting();
    }

    private void drainWaiting() throws Exception {
        List<Sample> ready = waiting;
        List<Long> since = waitingSince;
        waiting = new ArrayList<>();
        waitingSince = new ArrayList<>();
        for (int i = 0; i < ready.size(); i++) {
            accept(ready.get(i), since.get(i));
        }
    }

    /** At the end of input, samples still waiting for a model go to the dead letters: none is dropped unanswered. */
    @Override
    public void finish() throws Exception {
        for (Sample s : waiting) {
            reject(s, "sample '" + s.key() + "': the input ended before any model arrived");
        }
        waiting.clear();
        waitingSince.clear();
        super.finish();
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        modelState.clear();
        if (current != null && getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() == 0) {
            modelState.add(current);
        }
        waitingState.update(waiting);
    }
}

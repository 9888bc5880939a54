package org.streamdl.flink.inference;

import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.streamdl.flink.connector.records.Prediction;
import org.streamdl.flink.connector.records.Sample;

/** A predictor whose model is a file, read by each subtask when it opens. */
final class FilePredictorOperator extends BatchingPredictorOperator implements OneInputStreamOperator<Sample, Prediction> {
    private static final long serialVersionUID = 1L;

    private final String modelPath;
    private final long version;

    FilePredictorOperator(String modelPath, long version, long[] featureShape, int maxBatchSize, long maxBatchDelayMillis,
                          int threads) {
        super(new Path(modelPath).getName(), featureShape, maxBatchSize, maxBatchDelayMillis, threads);
        this.modelPath = modelPath;
        this.version = version;
    }

    @Override
    public void open() throws Exception {
        super.open();
        swapModel(load(ModelChecks.readFile(modelPath), new Path(modelPath).getName()), version);
    }

    @Override
    public void processElement(StreamRecord<Sample> element) throws Exception {
        accept(element.getValue());
    }
}

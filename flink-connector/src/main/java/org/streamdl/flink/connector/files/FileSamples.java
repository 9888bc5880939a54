package org.streamdl.flink.connector.files;

import java.io.IOException;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.streamdl.flink.connector.decode.DecodedSamples;
import org.streamdl.flink.connector.formats.CsvSampleFormat;
import org.streamdl.flink.connector.formats.IdxSampleFormat;
import org.streamdl.flink.connector.formats.SampleSpec;
import org.streamdl.flink.connector.records.RawRecord;

/** Samples from files in one call: the source, the decoder and the dead-letter stream. */
public final class FileSamples {
    private FileSamples() {}

    /**
     * (Fashion-)MNIST style IDX files, such as {@code train-images-idx3-ubyte.gz} and
     * {@code train-labels-idx1-ubyte.gz}; pixels become float32 in [0, 1] shaped as the spec's feature.
     */
    public static DecodedSamples idx(StreamExecutionEnvironment env, String images, String labels, SampleSpec spec)
            throws IOException {
        FileRecordSource source = FileRecordSource.idx(images, labels, FileRecordSource.DEFAULT_RECORDS_PER_SPLIT);
        SampleSpec.FeatureSpec feature = spec.singleFeature();
        if (feature == null || feature.elementCount() != source.recordBytes()) {
            throw new IllegalArgumentException(images + " holds images of " + source.recordBytes()
                    + " pixels but the spec expects " + (feature == null ? spec.features().keySet() : feature));
        }
        DataStream<RawRecord> raw = env.fromSource(source, WatermarkStrategy.noWatermarks(), "idx " + images);
        return DecodedSamples.decode(raw, new IdxSampleFormat(), spec);
    }

    /** A CSV file of numeric features and a class label, one sample per line. */
    public static DecodedSamples csv(StreamExecutionEnvironment env, String file, boolean skipHeader,
                                     CsvSampleFormat format, SampleSpec spec) throws IOException {
        FileRecordSource source = FileRecordSource.csv(file, skipHeader, FileRecordSource.DEFAULT_RECORDS_PER_SPLIT);
        DataStream<RawRecord> raw = env.fromSource(source, WatermarkStrategy.noWatermarks(), "csv " + file);
        return DecodedSamples.decode(raw, format, spec);
    }
}

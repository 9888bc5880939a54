package org.streamdl.flink.connector.formats;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.streamdl.flink.connector.records.RawRecord;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;
import org.streamdl.tensor.DType;

/**
 * One record of an IDX image file pair (MNIST, Fashion-MNIST) as the IDX file source emits it:
 * the label byte, then the image's unsigned bytes. Pixels become float32 scaled by 1/255, shaped
 * as the spec's single feature.
 */
public final class IdxSampleFormat implements SampleFormat {
    private static final long serialVersionUID = 1L;

    @Override
    public String name() {
        return "idx";
    }

    @Override
    public Sample decode(RawRecord record, SampleSpec spec) throws RecordException {
        SampleSpec.FeatureSpec feature = spec.singleFeature();
        if (feature == null || feature.dtype() != DType.FLOAT32) {
            throw new IllegalStateException("IDX samples need a spec with one float32 feature, not " + spec);
        }
        byte[] p = record.payload();
        long pixels = feature.elementCount();
        if (p.length != pixels + 1) {
            throw new RecordException("record: expected a label byte and " + pixels + " pixels, found " + p.length + " bytes");
        }
        byte[] bytes = new byte[(int) pixels * 4];
        ByteBuffer out = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 1; i < p.length; i++) {
            out.putFloat((p[i] & 0xff) / 255f);
        }
        return Sample.builder()
                .feature(feature.name(), TensorValue.of(DType.FLOAT32, feature.shape(), bytes))
                .labelClass(p[0] & 0xff)
                .build();
    }
}

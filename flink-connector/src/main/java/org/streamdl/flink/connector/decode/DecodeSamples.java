package org.streamdl.flink.connector.decode;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.streamdl.flink.connector.formats.RecordException;
import org.streamdl.flink.connector.formats.SampleFormat;
import org.streamdl.flink.connector.formats.SampleSpec;
import org.streamdl.flink.connector.records.DeadLetter;
import org.streamdl.flink.connector.records.RawRecord;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.serialization.StreamDLTypes;

/**
 * Decodes raw records into samples and checks them against a spec. Nothing is thrown and nothing
 * is dropped: every record leaves either as a sample or as a {@link DeadLetter} on
 * {@link #DEAD_LETTERS} whose reason names the field, what was expected and what was found.
 * A sample without its own event time takes the source's timestamp.
 */
public final class DecodeSamples extends ProcessFunction<RawRecord, Sample> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("dead-letters", StreamDLTypes.DEAD_LETTER);

    private final SampleFormat format;
    private final SampleSpec spec;
    private transient Counter decoded;
    private transient Counter deadLettered;

    public DecodeSamples(SampleFormat format, SampleSpec spec) {
        this.format = format;
        this.spec = spec;
    }

    @Override
    public void open(OpenContext context) {
        decoded = getRuntimeContext().getMetricGroup().counter("samplesDecoded");
        deadLettered = getRuntimeContext().getMetricGroup().counter("deadLetters");
    }

    @Override
    public void processElement(RawRecord record, Context ctx, Collector<Sample> out) {
        Sample sample;
        try {
            sample = decode(format, spec, record);
        } catch (RecordException e) {
            deadLettered.inc();
            ctx.output(DEAD_LETTERS, DeadLetter.of(record, format.name() + " " + e.getMessage()));
            return;
        }
        decoded.inc();
        out.collect(sample);
    }

    /** Decodes and validates one record outside Flink (tests, tools, benchmarks). */
    public static Sample decode(SampleFormat format, SampleSpec spec, RawRecord record) throws RecordException {
        Sample sample;
        try {
            sample = format.decode(record, spec);
        } catch (RecordException e) {
            throw e;
        } catch (RuntimeException e) {
            // A decoder bug must not cost the record: it is kept with the failure as reason.
            throw new RecordException("record: the " + format.name() + " decoder failed", e);
        }
        spec.validate(sample);
        if (sample.eventTime() == Sample.NO_TIME && record.timestamp() != Sample.NO_TIME) {
            sample = sample.toBuilder().eventTime(record.timestamp()).build();
        }
        return sample;
    }
}

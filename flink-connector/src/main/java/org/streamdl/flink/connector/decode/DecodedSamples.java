package org.streamdl.flink.connector.decode;

import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.streamdl.flink.connector.formats.SampleFormat;
import org.streamdl.flink.connector.formats.SampleSpec;
import org.streamdl.flink.connector.records.DeadLetter;
import org.streamdl.flink.connector.records.RawRecord;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.serialization.StreamDLTypes;

/** The two streams that decoding a source gives: good samples and dead letters. */
public record DecodedSamples(SingleOutputStreamOperator<Sample> samples, DataStream<DeadLetter> deadLetters) {

    /** Decodes {@code raw} with {@code format} and validates against {@code spec}, in an operator named after the format. */
    public static DecodedSamples decode(DataStream<RawRecord> raw, SampleFormat format, SampleSpec spec) {
        SingleOutputStreamOperator<Sample> samples = raw
                .process(new DecodeSamples(format, spec), StreamDLTypes.SAMPLE)
                .name("decode " + format.name() + " samples");
        return new DecodedSamples(samples, samples.getSideOutput(DecodeSamples.DEAD_LETTERS));
    }
}

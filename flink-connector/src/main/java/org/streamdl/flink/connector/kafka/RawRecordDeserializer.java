package org.streamdl.flink.connector.kafka;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.streamdl.flink.connector.records.Origin;
import org.streamdl.flink.connector.records.RawRecord;
import org.streamdl.flink.connector.serialization.StreamDLTypes;

/**
 * Keeps each Kafka record's value as raw bytes with its topic, partition, offset and timestamp.
 * It cannot fail on content (a tombstone becomes an empty payload), so decoding errors surface in
 * one place, the decoding operator, as dead letters instead of failing the source.
 */
public final class RawRecordDeserializer implements KafkaRecordDeserializationSchema<RawRecord> {
    private static final long serialVersionUID = 1L;
    private static final byte[] EMPTY = new byte[0];

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawRecord> out) {
        out.collect(new RawRecord(record.value() == null ? EMPTY : record.value(),
                Origin.kafka(record.topic(), record.partition(), record.offset()),
                record.timestamp() >= 0 ? record.timestamp() : org.streamdl.flink.connector.records.Sample.NO_TIME));
    }

    @Override
    public TypeInformation<RawRecord> getProducedType() {
        return StreamDLTypes.RAW_RECORD;
    }
}

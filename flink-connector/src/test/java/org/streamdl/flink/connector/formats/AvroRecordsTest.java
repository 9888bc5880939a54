package org.streamdl.flink.connector.formats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.streamdl.flink.connector.records.ModelSnapshot;

class AvroRecordsTest {
    @Test
    void aModelSnapshotSurvivesItsAvroMessage() throws Exception {
        ModelSnapshot m = new ModelSnapshot("mlp", 300, 38_400, 1_700_000_000_123L, new byte[] {9, 8, 7, 6, 5});
        byte[] message = AvroRecords.encode(m);
        assertEquals((byte) 0xC3, message[0]);   // single-object encoding, as every StreamDL topic
        assertEquals(m, AvroRecords.decodeModelSnapshot(message));
    }

    @Test
    void anotherRecordIsNotTakenForAModelSnapshot() {
        byte[] deadLetterMessage = AvroRecords.encode(new org.streamdl.flink.connector.records.DeadLetter(new byte[] {1},
                org.streamdl.flink.connector.records.Origin.kafka("t", 0, 5), "bad", 1L));
        RecordException e = assertThrows(RecordException.class, () -> AvroRecords.decodeModelSnapshot(deadLetterMessage));
        assertTrue(e.getMessage().contains("ModelSnapshot"), e.getMessage());
    }
}

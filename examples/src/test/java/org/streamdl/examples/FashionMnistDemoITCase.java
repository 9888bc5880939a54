package org.streamdl.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.streamdl.flink.connector.records.DeadLetter;
import org.streamdl.flink.connector.records.ModelSnapshot;
import org.junit.jupiter.api.Timeout;

/** The demo end to end on 4,000 images: every record trained once per epoch or dead-lettered with its reason. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)   // a stalled job fails here instead of hanging the build
class FashionMnistDemoITCase {

    @Test
    void theDemoTrainsEveryGoodRecordAndDeadLettersTheRest() throws Exception {
        Path data = Path.of(FashionMnistDemoITCase.class.getResource("/fashion-mnist-4k/README.md").toURI()).getParent();
        int epochs = 4;
        FashionMnistDemo.Result r = FashionMnistDemo.run(new FashionMnistDemo.Options(data, 4000, 1000, epochs, 2));

        assertEquals(4000 + FashionMnistDemo.MALFORMED, r.recordsSent());
        // each good record is trained once in every epoch, none twice, none lost
        assertEquals(4000L * epochs, r.samplesApplied());
        List<String> reasons = r.deadLetters().stream().map(DeadLetter::reason).sorted().toList();
        assertEquals(3, reasons.size(), reasons.toString());
        assertTrue(reasons.get(0).startsWith("avro features.input: expected finite values, found NaN"), reasons.toString());
        assertTrue(reasons.get(1).startsWith("avro features.input: expected shape [1, 28, 28], found [784]"), reasons.toString());
        assertTrue(reasons.get(2).startsWith("avro header: expected Avro single-object encoding"), reasons.toString());
        List<Long> versions = r.snapshots().stream().map(ModelSnapshot::version).toList();
        assertEquals(versions.stream().sorted().distinct().toList(), versions);
        // 125 steps of batch 128 from the L1 recipe: far above chance (0.1), measured 0.63-0.74 on 3000-6000 images
        assertTrue(r.testAccuracy() > 0.5, "test accuracy " + r.testAccuracy());
        // the serving job answers every test image once, with the same model: the same accuracy (to a tie or two)
        assertEquals(1000, r.predictions());
        assertEquals(r.testAccuracy(), r.servedAccuracy(), 0.002);
    }
}

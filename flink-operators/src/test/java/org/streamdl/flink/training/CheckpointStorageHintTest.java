package org.streamdl.flink.training;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/** When the later epochs' cache would go into the JobManager's 5 MiB checkpoint memory, the job builder says so. */
class CheckpointStorageHintTest {
    private static StreamExecutionEnvironment env(Configuration conf, boolean checkpoints) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        if (checkpoints) {
            env.enableCheckpointing(1000);
        }
        return env;
    }

    @Test
    void severalEpochsWithCheckpointsInMemoryAreFlagged() {
        assertTrue(DistributedTraining.cacheMeetsMemoryCheckpoints(env(new Configuration(), true), 3));
        Configuration jobmanager = new Configuration();
        jobmanager.set(CheckpointingOptions.CHECKPOINT_STORAGE, "jobmanager");
        assertTrue(DistributedTraining.cacheMeetsMemoryCheckpoints(env(jobmanager, true), 2));
    }

    @Test
    void oneEpochNoCheckpointsOrFileCheckpointsAreNot() {
        assertFalse(DistributedTraining.cacheMeetsMemoryCheckpoints(env(new Configuration(), true), 1));
        assertFalse(DistributedTraining.cacheMeetsMemoryCheckpoints(env(new Configuration(), false), 3));
        Configuration files = new Configuration();
        files.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, "file:///tmp/checkpoints");
        assertFalse(DistributedTraining.cacheMeetsMemoryCheckpoints(env(files, true), 3));
        Configuration filesystem = new Configuration();
        filesystem.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        assertFalse(DistributedTraining.cacheMeetsMemoryCheckpoints(env(filesystem, true), 3));
    }
}

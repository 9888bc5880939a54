package org.streamdl.dnn.dnnl;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The number of threads oneDNN may use for calls from one Java thread. The JavaCPP preset runs
 * oneDNN on OpenMP, whose team size is a setting of the calling thread ({@code
 * omp_set_num_threads}); it is applied before every primitive, so several models on several Flink
 * slots in one JVM each get their own share of the cores instead of every call spawning a team of
 * all cores.
 */
final class OpenMpThreads {
    private static final Logger LOG = LoggerFactory.getLogger(OpenMpThreads.class);

    private final int threads;

    OpenMpThreads(int threads) {
        this.threads = threads;
    }

    /** Whether the OpenMP glue loaded; if not, oneDNN uses OMP_NUM_THREADS or every core. */
    static boolean available() {
        return Glue.AVAILABLE;
    }

    private static final class Glue {
        static final boolean AVAILABLE = load();

        private static boolean load() {
            try {
                OpenMp.omp_get_max_threads();
                return true;
            } catch (Throwable e) {   // UnsatisfiedLinkError, NoClassDefFoundError
                LOG.warn("the OpenMP thread-count glue did not load ({}); oneDNN uses OMP_NUM_THREADS or every core. "
                        + "Build with a C++ compiler (g++) to limit threads per model", e.toString());
                return false;
            }
        }
    }

    /**
     * A small primitive right after a wide one keeps the wide team: shrinking lets the idle OpenMP
     * workers fall asleep, and waking them for the next wide primitive costs more (measured ~100 µs
     * on 2 cores) than running the small one on the full team. After this long without a wide
     * primitive, small ones run on one thread.
     */
    static final long STICKY_NANOS = 1_000_000;

    private int lastTeam = 1;
    private long lastWideAt = Long.MIN_VALUE / 2;

    /** Sets the calling thread's team to {@code wanted}, at most the backend's thread count. */
    void applyToCallingThread(int wanted) {
        setTeam(teamFor(wanted, System.nanoTime()));
    }

    /** Sets the calling thread's team to {@code wanted} (at most the backend's count), leaving the sticky window alone. */
    void applyExactly(int wanted) {
        setTeam(Math.min(wanted, threads));
    }

    private static void setTeam(int team) {
        if (Glue.AVAILABLE && OpenMp.omp_get_max_threads() != team) {
            OpenMp.omp_set_num_threads(team);
        }
    }

    /** The team a primitive wanting {@code wanted} threads gets at time {@code now}; remembers it. */
    int teamFor(int wanted, long now) {
        int team = Math.min(wanted, threads);
        if (team == threads) {
            lastWideAt = now;   // only a primitive that wants the full team opens the window
        } else if (team < lastTeam && now - lastWideAt < STICKY_NANOS) {
            team = lastTeam;
        }
        lastTeam = team;
        return team;
    }

    /** The team size calls from this thread get now, or -1 without the glue. */
    static int currentTeamSize() {
        return Glue.AVAILABLE ? OpenMp.omp_get_max_threads() : -1;
    }

    int requested() {
        return threads;
    }
}

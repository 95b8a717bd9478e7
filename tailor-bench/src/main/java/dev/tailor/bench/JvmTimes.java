package dev.tailor.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;

/**
 * The JVM's own work so far: milliseconds its JIT compiler threads have spent compiling and its collectors have
 * spent collecting (the parallel and serial collectors stop the application for all of it). Taken before and after a
 * measured run, the difference says how much of the run's two cores went to the JVM rather than to the kernels: a
 * large method compiled late, or a collection, stalls a decoding step (and shows in the inter-token latency's tail).
 *
 * @param jitMillis total compilation time, or 0 where the JVM does not measure it
 * @param gcMillis  total collection time over every collector
 */
record JvmTimes(long jitMillis, long gcMillis) {
    private static final CompilationMXBean COMPILER = ManagementFactory.getCompilationMXBean();

    /** The totals now. */
    static JvmTimes now() {
        long gc = 0;
        for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) {
            gc += Math.max(0, b.getCollectionTime());
        }
        return new JvmTimes(totalJitMillis(), gc);
    }

    /** The JIT compiler threads' total compilation time so far (ms), or 0 where the JVM does not measure it. */
    static long totalJitMillis() {
        return COMPILER != null && COMPILER.isCompilationTimeMonitoringSupported()
                ? COMPILER.getTotalCompilationTime() : 0;
    }

    /** The work done between {@code earlier} and this. */
    JvmTimes since(JvmTimes earlier) {
        return new JvmTimes(jitMillis - earlier.jitMillis, gcMillis - earlier.gcMillis);
    }
}

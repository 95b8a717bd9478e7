package dev.tailor.compare;

import dev.tailor.io.AtomicFiles;
import dev.tailor.model.ConfigException;
import dev.tailor.model.ContextOverflowException;
import dev.tailor.io.TensorFormatException;
import dev.tailor.tokenizer.ChatTemplateException;
import dev.tailor.tokenizer.TokenizerException;
import dev.tailor.train.ProcessStats;
import dev.tailor.train.Trainer;
import dev.tailor.train.TrainingRun;
import dev.tailor.train.data.DataFormatException;

import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process that trains one method of a comparison, so that its peak memory is its own: reads the {@code job.json}
 * named by its one argument, trains (resuming from a checkpoint in the job's output when there is one), and writes
 * {@code measurement.json} beside it. Its log goes to standard error; it exits with 0, with {@value #BAD_INPUT} when
 * the input cannot be used, or with 1, after an {@code error:} line.
 */
public final class MethodWorker {
    /** The exit status for input that cannot be used (an option, the data, the model). */
    static final int BAD_INPUT = 2;
    /** The file the worker writes when it is done. */
    static final String MEASUREMENT = "measurement.json";
    private static final long SAMPLE_MILLIS = 500;

    private MethodWorker() {
    }

    /** Trains the job in {@code args[0]}. */
    public static void main(String[] args) {
        long start = System.nanoTime();
        long startRss = (long) (ProcessStats.rssMib() * (1 << 20));
        PrintWriter log = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        int status;
        try {
            MethodJob job = MethodJob.parse(Files.readAllBytes(Path.of(args[0])));
            MappedPeak mapped = MappedPeak.start(job.model());
            Trainer.Summary s = TrainingRun.run(job.trainingSpec(), log, false);
            mapped.stop();
            Measurement m = new Measurement(s.steps(), s.resumedFrom(), s.trainableParameters(), s.tokens(),
                    s.seconds(), s.trainLoss(), s.evalLoss(), s.evalAccuracy(),
                    (long) (ProcessStats.peakRssMib() * (1 << 20)), startRss, youngGenBytes(),
                    (System.nanoTime() - start) / 1e9, memoryParts(mapped.peakBytes()));
            byte[] bytes = Reports.pretty(m.json());
            AtomicFiles.write(job.output().resolve(MEASUREMENT), ch -> ch.write(ByteBuffer.wrap(bytes)));
            status = 0;
        } catch (Exception | Error e) {
            log.println("error: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            if (System.getenv("TAILOR_DEBUG") != null) {
                e.printStackTrace(log);
            }
            status = isBadInput(e) ? BAD_INPUT : 1;
        }
        log.flush();
        System.exit(status);
    }

    /** The most the heap's young generation (eden and survivor spaces) may take; 0 when it has no fixed maximum. */
    static long youngGenBytes() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            String name = pool.getName();
            if (pool.getType() == MemoryType.HEAP && (name.contains("Eden") || name.contains("Survivor"))) {
                long max = pool.getUsage().getMax();
                if (max < 0) {
                    return 0;
                }
                sum += max;
            }
        }
        return sum;
    }

    /**
     * The peaks of the heap's generations, with {@code mappedBytes} of the base's weight files. The young generation's
     * is its pools' peaks summed, at most its size (its spaces peak at different times, and the collector resizes
     * them within that size).
     */
    static Measurement.MemoryParts memoryParts(long mappedBytes) {
        long young = 0;
        long old = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() != MemoryType.HEAP) {
                continue;
            }
            long used = pool.getPeakUsage().getUsed();
            String name = pool.getName();
            if (name.contains("Eden") || name.contains("Survivor")) {
                young += used;
            } else {
                old += used;
            }
        }
        long youngMax = youngGenBytes();
        return new Measurement.MemoryParts(youngMax > 0 ? Math.min(young, youngMax) : young, old, mappedBytes);
    }

    /**
     * The most of the base's weight files resident at once, sampled every {@value #SAMPLE_MILLIS} ms while the run
     * trains (the mapping is gone once the run has closed its model).
     */
    static final class MappedPeak {
        private final Path dir;
        private final Thread thread;
        private volatile long peak;
        private volatile boolean running = true;

        private MappedPeak(Path dir) {
            this.dir = dir;
            this.thread = Thread.ofPlatform().daemon().name("mapped-peak").unstarted(this::sample);
        }

        static MappedPeak start(Path dir) {
            MappedPeak p = new MappedPeak(dir);
            p.thread.start();
            return p;
        }

        private void sample() {
            while (running) {
                peak = Math.max(peak, mappedBytes(dir));
                try {
                    Thread.sleep(SAMPLE_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        void stop() throws InterruptedException {
            running = false;
            thread.interrupt();
            thread.join();
        }

        long peakBytes() {
            return peak;
        }
    }

    /**
     * The resident bytes of this process's mappings of {@code .safetensors} files under {@code dir}
     * ({@code /proc/self/smaps}); 0 where that cannot be read.
     */
    static long mappedBytes(Path dir) {
        String prefix;
        try {
            prefix = dir.toRealPath() + "/";
        } catch (java.io.IOException e) {
            return 0;
        }
        long kib = 0;
        boolean counting = false;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
                if (isMappingHeader(line)) {
                    String path = line.substring(line.lastIndexOf(' ') + 1);
                    counting = path.startsWith(prefix) && path.endsWith(".safetensors");
                } else if (counting && line.startsWith("Rss:")) {
                    kib += Long.parseLong(line.substring(4).trim().split("\\s+")[0]);
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            return 0;
        }
        return kib << 10;
    }

    /** Whether {@code line} of {@code smaps} starts a mapping ({@code start-end perms offset dev inode [path]}). */
    private static boolean isMappingHeader(String line) {
        int dash = line.indexOf('-');
        int space = line.indexOf(' ');
        return dash > 0 && space > dash && line.substring(0, dash).chars().allMatch(c -> Character.digit(c, 16) >= 0);
    }

    private static boolean isBadInput(Throwable e) {
        return e instanceof IllegalArgumentException || e instanceof DataFormatException
                || e instanceof ConfigException || e instanceof TensorFormatException
                || e instanceof TokenizerException || e instanceof ChatTemplateException
                || e instanceof ContextOverflowException;
    }
}

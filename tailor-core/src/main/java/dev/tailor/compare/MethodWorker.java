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
            Trainer.Summary s = TrainingRun.run(job.trainingSpec(), log, false);
            Measurement m = new Measurement(s.steps(), s.resumedFrom(), s.trainableParameters(), s.tokens(),
                    s.seconds(), s.trainLoss(), s.evalLoss(), s.evalAccuracy(),
                    (long) (ProcessStats.peakRssMib() * (1 << 20)), startRss, youngGenBytes(),
                    (System.nanoTime() - start) / 1e9);
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

    private static boolean isBadInput(Throwable e) {
        return e instanceof IllegalArgumentException || e instanceof DataFormatException
                || e instanceof ConfigException || e instanceof TensorFormatException
                || e instanceof TokenizerException || e instanceof ChatTemplateException
                || e instanceof ContextOverflowException;
    }
}

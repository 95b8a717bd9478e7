package dev.tailor.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.tailor.bench.AdapterMemoryBench;
import dev.tailor.bench.BatchDecodeBench;
import dev.tailor.bench.BenchResults;
import dev.tailor.bench.BenchShape;
import dev.tailor.bench.InferenceBench;
import dev.tailor.bench.MachineBench;
import dev.tailor.bench.PeerBlas;
import dev.tailor.bench.ServeBench;
import dev.tailor.bench.TrainBench;
import dev.tailor.bench.TrainMethod;
import dev.tailor.bench.fuzz.FuzzBench;
import dev.tailor.model.PretrainedModel;
import dev.tailor.serve.ServedModels;
import dev.tailor.serve.ServerOptions;
import dev.tailor.serve.TailorServer;
import dev.tailor.tensor.DType;
import dev.tailor.train.FreezePlan;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code tailor bench MODE}: builds a random model and prints one {@code RESULT {json}} line per run, taking the
 * flags of the PyTorch peer ({@code torch_peer.py}) so both run with the same arguments; {@code --peer} runs the
 * peer too and prints its line beside Tailor's. {@code tailor bench machine} measures this processor's FMA peak and
 * memory bandwidth; every line, the peer's too, is finished by {@link BenchResults} (the processor's model, and each
 * rate's fraction of those limits). {@code tailor bench fuzz} runs the fuzz targets of the test suite's properties for
 * longer, with a fresh seed.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmark kernels, inference, training steps and adapter memory on a random model "
                + "(prints RESULT {json} lines, each with the CPU model and its rates' fractions of this machine's "
                + "measured limits); measure those limits (machine); fuzz the loaders with hostile input for longer "
                + "than the tests do.")
public final class BenchCommand implements Callable<Integer> {
    /** Finishes every printed line; measures this machine's limits, once, on the first line with a rate. */
    private final BenchResults finished = BenchResults.ofThisMachine(System.err::println);
    /** The server's access log, held (so its level stays set) and quieted while {@code bench serve} loads it. */
    private static final java.util.logging.Logger ACCESS_LOG =
            java.util.logging.Logger.getLogger(TailorServer.ACCESS_LOG);

    @Parameters(index = "0", description = "machine, matmul, prefill, decode, decode-batch, train, adapters, serve or fuzz")
    String mode;

    @Option(names = "--dim", description = "hidden size (default ${DEFAULT-VALUE})", defaultValue = "576")
    int dim;
    @Option(names = "--layers", defaultValue = "8", description = "decoder blocks (default ${DEFAULT-VALUE})")
    int layers;
    @Option(names = "--heads", defaultValue = "9", description = "query heads (default ${DEFAULT-VALUE})")
    int heads;
    @Option(names = "--kv-heads", defaultValue = "3", description = "key/value heads (default ${DEFAULT-VALUE})")
    int kvHeads;
    @Option(names = "--ffn", defaultValue = "1536", description = "SwiGLU width (default ${DEFAULT-VALUE})")
    int ffn;
    @Option(names = "--vocab", defaultValue = "49152", description = "vocabulary (default ${DEFAULT-VALUE})")
    int vocab;
    @Option(names = "--seq", defaultValue = "256", description = "prefill length (default ${DEFAULT-VALUE})")
    int seq;
    @Option(names = "--batch", defaultValue = "1", description = "sequences per step (default ${DEFAULT-VALUE})")
    int batch;
    @Option(names = "--threads", description = "worker threads (default: all cores)")
    Integer threads;
    @Option(names = "--prompt", defaultValue = "32", description = "decode prompt length (default ${DEFAULT-VALUE})")
    int prompt;
    @Option(names = "--new-tokens", defaultValue = "64", description = "decoded tokens (default ${DEFAULT-VALUE})")
    int newTokens;
    @Option(names = "--steps", defaultValue = "6", description = "measured repetitions (default ${DEFAULT-VALUE})")
    int steps;
    @Option(names = "--warmup", defaultValue = "2", description = "warm-up repetitions, at least (default "
            + "${DEFAULT-VALUE}); prefill, decode, decode-batch, serve and train go on while repetitions still get "
            + "faster (the JIT compiling), and all but serve report the count as warmup_steps")
    int warmup;
    @Option(names = "--lora", defaultValue = "0", description = "train: LoRA rank; 0 = full fine-tuning (default); "
            + "with --method lora or dora, their rank (default 8)")
    int lora;
    @Option(names = "--method", completionCandidates = BenchMethods.class, description = "train: "
            + "${COMPLETION-CANDIDATES}, each with its defaults (LoRA/DoRA: rank --lora, alpha 2r, all seven "
            + "projections) (default: lora when --lora > 0, else full)")
    String method;
    @Option(names = "--gradient-checkpointing", description = "train: recompute activations in backward")
    boolean gradientCheckpointing;
    @Option(names = "--count", defaultValue = "100", description = "adapters: how many LoRA adapters (default ${DEFAULT-VALUE})")
    int count;
    @Option(names = "--streams", split = ",", defaultValue = "1,16",
            description = "serve, decode-batch: concurrent streams, one run each (default ${DEFAULT-VALUE})")
    List<Integer> streams;
    @Option(names = "--adapters", split = ",", defaultValue = "1,16,100",
            description = "serve, decode-batch: distinct LoRA r=8 adapters the requests go to round-robin (0: the "
                    + "base alone in decode-batch), one run each "
                    + "(default ${DEFAULT-VALUE})")
    List<Integer> adapterCounts;
    @Option(names = "--requests", defaultValue = "4",
            description = "serve: requests each stream sends in turn, per run (default ${DEFAULT-VALUE})")
    int requests;
    @Option(names = "--rounds", defaultValue = "1", description = "serve: times every configuration runs, each round "
            + "after a bench decode of its own; with more than one, also each configuration's medians over the rounds "
            + "of its goal ratios, taken within each round (default ${DEFAULT-VALUE})")
    int rounds;
    @Option(names = "--train-layers", description = "train: train only these layers (FROM-TO), frozen below")
    String trainLayers;
    @Option(names = "--dtype", defaultValue = "F32", description = "weight type: F32, BF16, F16, Q8_0, Q4_0 (random "
            + "weights quantized as llama-quantize does); matmul times F32 and BF16, or F32 and this type when it is "
            + "another (default ${DEFAULT-VALUE})")
    DType dtype;
    @Option(names = "--tries", defaultValue = "100000", description = "fuzz: trials of each target, at most "
            + "(default ${DEFAULT-VALUE})")
    long tries;
    @Option(names = "--seconds", defaultValue = "300", description = "fuzz: time for the whole run, at most "
            + "(default ${DEFAULT-VALUE})")
    long seconds;
    @Option(names = "--target", description = "fuzz: only this target (model-config, tokenizer, safetensors, "
            + "adapter-config, method-options, jsonl, chat-template, gguf, checkpoint; default all)")
    String target;
    @Option(names = "--seed", description = "fuzz: the seed the trials' seeds are drawn from (default: a fresh one)")
    Long seed;
    @Option(names = "--replay", description = "fuzz: run the one trial of --target with this seed, as a finding's "
            + "reproducer says")
    Long replay;
    @Option(names = "--peer", description = "also run this torch_peer.py with the same flags and print its RESULT "
            + "(with OPENBLAS_CORETYPE set when its OpenBLAS does not know this CPU and falls back to SSE3 kernels)")
    Path peer;
    @Option(names = "--peer-python", defaultValue = "/usr/bin/python3",
            description = "interpreter for the peer (default ${DEFAULT-VALUE}, Debian's, which has python3-torch)")
    String peerPython;

    @Override
    public Integer call() throws Exception {
        if (threads != null) {
            System.setProperty("tailor.threads", Integer.toString(threads));
        }
        if (mode.equals("fuzz")) {
            return fuzz();
        }
        if (!dtype.isWeightType() && dtype != DType.Q8_0 && dtype != DType.Q4_0) {
            throw new IllegalArgumentException("--dtype must be F32, BF16, F16, Q8_0 or Q4_0, not " + dtype);
        }
        BenchShape shape = new BenchShape(dim, layers, heads, kvHeads, ffn, vocab, seq, batch, prompt, newTokens,
                steps, warmup, dtype);
        List<String> peerCommand = peer == null ? null : peerCommand();
        List<Map<String, Object>> results = switch (mode) {
            case "machine" -> List.of(MachineBench.run(System.err::println));
            case "prefill" -> List.of(InferenceBench.prefill(shape));
            case "decode" -> List.of(InferenceBench.decode(shape));
            case "decode-batch" -> BatchDecodeBench.run(shape, streams, adapterCounts);
            case "matmul" -> MatmulResults.run(threads, dtype);
            case "adapters" -> List.of(AdapterMemoryBench.run(shape, count, lora == 0 ? 8 : lora));
            case "serve" -> ServeBench.run(shape, streams, adapterCounts, requests, rounds,
                    BenchCommand::serve);
            case "train" -> List.of(TrainBench.run(shape, TrainMethod.of(method, lora), gradientCheckpointing,
                    trainLayers == null
                    ? FreezePlan.fullFineTuning()
                    : new FreezePlan(false, FreezePlan.parseLayers(trainLayers), List.of(), false, false, false)));
            default -> throw new IllegalArgumentException("unknown bench mode \"" + mode
                    + "\" (expected machine, matmul, prefill, decode, decode-batch, train, adapters, serve or fuzz)");
        };
        for (Map<String, Object> r : results) {
            System.out.println("RESULT " + Json.MAPPER.writeValueAsString(finished.finish(r)));
        }
        if (peerCommand != null) {
            runPeer(peerCommand);
        }
        return 0;
    }

    /**
     * {@code bench serve}'s server: {@link TailorServer} in this process on a free loopback port (the bench package
     * stands below the server's, so the command hands it over); registered adapters go into a registry in a
     * temporary state directory, deleted with the server.
     */
    static ServeBench.Running serve(Path baseDir, String baseId, Map<String, Path> adapters, boolean registered)
            throws IOException {
        ACCESS_LOG.setLevel(java.util.logging.Level.WARNING);
        Path state = registered ? Files.createTempDirectory("tailor-bench-state") : null;
        PretrainedModel pretrained = PretrainedModel.load(baseDir);
        try {
            ServedModels models = new ServedModels(pretrained, baseId, state);
            adapters.forEach((name, dir) -> {
                if (registered) {
                    models.register(name, dir, true, null);
                } else {
                    models.load(name, dir, false);
                }
            });
            TailorServer server = TailorServer.start(models, ServerOptions.defaults().withPort(0));
            return new ServeBench.Running() {
                @Override
                public int port() {
                    return server.port();
                }

                @Override
                public void close() {
                    try {
                        server.close();
                        models.close();
                    } finally {
                        pretrained.close();
                        deleteQuietly(state);
                    }
                }
            };
        } catch (RuntimeException e) {
            pretrained.close();
            deleteQuietly(state);
            throw e;
        }
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.err.println("tailor: could not delete " + dir + ": " + e.getMessage());
        }
    }

    /** Fuzzes the loaders; exit status 1 when there are findings. */
    private int fuzz() throws IOException {
        FuzzBench.Run run = replay != null ? FuzzBench.replay(target, replay, System.out)
                : FuzzBench.run(target, tries, Duration.ofSeconds(seconds),
                seed != null ? seed : new SecureRandom().nextLong(), System.out);
        for (Map<String, Object> r : run.results()) {
            System.out.println("RESULT " + Json.MAPPER.writeValueAsString(finished.finish(r)));
        }
        return run.findings() == 0 ? 0 : 1;
    }

    /**
     * The peer's command line: this run's flags, checked before anything runs, so that a comparison the peer cannot
     * make is refused at once instead of after Tailor's part. The peer trains full fine-tuning or LoRA (told the
     * rank Tailor trains: {@code --method lora} alone is rank 8, {@code --method full} is rank 0 whatever
     * {@code --lora} says), every layer, without gradient checkpointing.
     *
     * @throws IllegalArgumentException for a mode, method or option the peer has not got, or a missing peer file
     */
    List<String> peerCommand() {
        if (!List.of("matmul", "prefill", "decode", "train").contains(mode)) {
            throw new IllegalArgumentException("--peer runs with bench matmul, prefill, decode and train, not " + mode);
        }
        int rank = lora;
        if (mode.equals("train")) {
            TrainMethod trained = TrainMethod.of(method, lora);
            if (!List.of("full", "lora").contains(trained.name())) {
                throw new IllegalArgumentException("--peer runs only full fine-tuning and LoRA, not --method "
                        + method);
            }
            if (gradientCheckpointing || trainLayers != null) {
                throw new IllegalArgumentException("--peer trains every layer without gradient checkpointing: drop "
                        + (gradientCheckpointing ? "--gradient-checkpointing" : "--train-layers") + " or --peer");
            }
            rank = trained.loraRank();
        }
        if (!Files.isRegularFile(peer)) {
            throw new IllegalArgumentException("--peer " + peer + ": no such file");
        }
        return List.of(peerPython, peer.toString(), mode,
                "--dim", "" + dim, "--layers", "" + layers, "--heads", "" + heads, "--kv-heads", "" + kvHeads,
                "--ffn", "" + ffn, "--vocab", "" + vocab, "--seq", "" + seq, "--batch", "" + batch,
                "--threads", "" + (threads != null ? threads : Runtime.getRuntime().availableProcessors()),
                "--prompt", "" + prompt, "--new-tokens", "" + newTokens, "--steps", "" + steps,
                "--warmup", "" + warmup, "--lora", "" + rank);
    }

    private void runPeer(List<String> cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Map<String, String> blas = PeerBlas.peerEnvironment(peerPython, System.getenv(),
                note -> System.err.println("tailor: " + note));
        pb.environment().putAll(blas);
        Process p = pb.start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("RESULT ")) {
                    Map<String, Object> result = new LinkedHashMap<>(Map.of("impl", "torch-peer"));
                    blas.forEach((k, v) -> result.put(k.toLowerCase(Locale.ROOT), v));
                    result.putAll(Json.MAPPER.readValue(line.substring(7),
                            new TypeReference<Map<String, Object>>() { }));
                    System.out.println("RESULT " + Json.MAPPER.writeValueAsString(finished.finish(result)));
                } else {
                    System.err.println("peer: " + line);
                }
            }
        }
        int rc = p.waitFor();
        if (rc != 0) {
            throw new IllegalStateException("the peer exited with status " + rc + " (" + String.join(" ", cmd) + ")");
        }
    }

    /** The methods {@code --method} accepts, for its help. */
    static final class BenchMethods implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return TrainMethod.NAMES.iterator();
        }
    }
}

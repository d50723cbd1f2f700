package io.chimedialer.app.bench;

import io.chimedialer.core.chime.ChimeClientSettings;
import io.chimedialer.core.chime.ChimeClients;
import io.chimedialer.core.chime.RegionConfig;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import software.amazon.awssdk.services.chimesdkvoice.ChimeSdkVoiceAsyncClient;
import software.amazon.awssdk.services.chimesdkvoice.model.CreateSipMediaApplicationCallRequest;

/**
 * The raw SDK ceiling shared by the originations and end-to-end measurements: an API-only emulator in a child
 * JVM (its quotas out of the way) and a bare loop of the dialer's own {@code ChimeSdkVoiceAsyncClient} (built by
 * {@code ChimeClients}, SDK retries off) with a fixed number of Creates in flight. Started on first use, kept
 * for the whole run, so that each round of a measurement can take its ceiling right before its measured side.
 * Not thread-safe.
 */
final class SdkCeiling implements AutoCloseable {
    /** The raw loop warms up until it made at least this many Creates ... */
    static final long WARM_UP_CREATES = 20_000;
    /** ... and both processes' JIT is quiet ({@link #warmedUp}), or for this many times the settings' warm-up. */
    static final int WARM_UP_MAX_FACTOR = 30;
    /** One slice of the warm-up, after which the JIT's quiet is judged. */
    static final Duration WARM_UP_SLICE = Duration.ofSeconds(1);
    /** The JIT is quiet when it compiled for less than this share of a slice ... */
    static final double QUIET_COMPILE_SHARE = 0.05;
    /** ... and the CPU time per Create of each process changed by less than this share from the slice before. */
    static final double STEADY_CPU_CHANGE = 0.15;
    private final BenchSettings settings;
    private final Path jfrDir;
    private final PrintStream log;
    private Children.Child emulator;
    private ChimeClients clients;
    private URI url;
    private final AtomicLong seq = new AtomicLong();
    private long emulatorCpuNanos;
    private long clientCpuNanos;
    private long measuredCreates;
    private double warmUpSeconds;
    private long warmUpCreates;
    private boolean warmedUp;
    private Map<String, Double> lastThreadMicros = Map.of();
    private double lastSwitches;
    private double lastSystemShare;

    /**
     * @param jfrDir when not null, the emulator child records itself with JDK Flight Recorder into
     *               {@code <jfrDir>/emulator.jfr} (written when the child exits)
     */
    SdkCeiling(BenchSettings settings, Path jfrDir, PrintStream log) {
        this.settings = settings;
        this.jfrDir = jfrDir;
        this.log = log;
    }

    /** The emulator's URL, starting it (and warming both sides up) on first use. */
    URI url() throws Exception {
        if (url == null) {
            List<String> command = new ArrayList<>(List.of(Children.java(), "-Xmx1g"));
            if (jfrDir != null) {
                java.nio.file.Files.createDirectories(jfrDir);
                command.add("-XX:StartFlightRecording=settings=profile,dumponexit=true,filename="
                        + jfrDir.resolve("emulator.jfr").toAbsolutePath());
            }
            command.addAll(List.of("-cp", Children.classPath(), "io.chimedialer.app.DialerMain", "emulator", "--port",
                    "0", "--api-only", "--no-call-records", "--create-tps", "100000000", "--update-tps", "100000000",
                    "--max-active-calls", "1000000000"));
            emulator = Children.Child.start(command);
            url = emulator.awaitUrl(60_000);
            log.printf("  emulator (API-only, separate process) at %s%n", url);
            RegionConfig region = new RegionConfig(OriginationsBench.REGION, OriginationsBench.SMA, 1_000_000, 1, 256,
                    1_000_000, OriginationsBench.FROM, url);
            clients = ChimeClients.create(List.of(region), OriginationsBench.CREDENTIALS,
                    ChimeClientSettings.ofDefaults());
            warmUp();
        }
        return url;
    }

    /**
     * A client set like the raw loop's ({@code ChimeClients} with the default settings, SDK retries off) for an
     * emulator at {@code url}: the end-to-end measurement's bare dialer uses it against its in-process emulator.
     */
    static ChimeClients rawClients(URI url) {
        RegionConfig region = new RegionConfig(OriginationsBench.REGION, OriginationsBench.SMA, 1_000_000, 1, 256,
                1_000_000, OriginationsBench.FROM, url);
        return ChimeClients.create(List.of(region), OriginationsBench.CREDENTIALS, ChimeClientSettings.ofDefaults());
    }

    /**
     * JIT of the client and of the emulator before anything is measured: one-second slices of the raw loop until it
     * made {@link #WARM_UP_CREATES} and both processes are steady (this JVM compiled for less than
     * {@link #QUIET_COMPILE_SHARE} of the slice, and the CPU time per Create of this process and of the emulator
     * moved by less than {@link #STEADY_CPU_CHANGE}), bounded by {@link #WARM_UP_MAX_FACTOR} times the settings'
     * warm-up. A count alone is not enough: on a loaded machine the compiler threads starve too, and a ceiling
     * measured on half-compiled code is a fraction of the steady one (the CPU time per Create was seen to fall
     * fivefold over the first minutes of traffic at a load average of 20 to 40).
     */
    private void warmUp() {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        boolean jitTimed = jit != null && jit.isCompilationTimeMonitoringSupported();
        long start = System.nanoTime();
        long deadline = start + settings.warmup().multipliedBy(WARM_UP_MAX_FACTOR).toNanos();
        Duration slice = WARM_UP_SLICE.compareTo(settings.warmup()) < 0 ? WARM_UP_SLICE : settings.warmup();
        long created = 0;
        double lastClient = -1;
        double lastEmulator = -1;
        double[] warm;
        boolean steady = false;
        do {
            long jit0 = jitTimed ? jit.getTotalCompilationTime() : 0;
            long emulator0 = emulatorCpuNanos();
            long client0 = clientCpuNanos();
            long t0 = System.nanoTime();
            warm = loop(slice);
            double wallMillis = (System.nanoTime() - t0) / 1e6;
            long n = (long) warm[1];
            created += n;
            if (n == 0) {
                continue;
            }
            double client = (clientCpuNanos() - client0) / (double) n;
            double emulator = (emulatorCpuNanos() - emulator0) / (double) n;
            boolean quiet = !jitTimed || (jit.getTotalCompilationTime() - jit0) < QUIET_COMPILE_SHARE * wallMillis;
            steady = created >= WARM_UP_CREATES && quiet && near(client, lastClient) && near(emulator, lastEmulator);
            lastClient = client;
            lastEmulator = emulator;
        } while (!steady && System.nanoTime() < deadline);
        warmUpSeconds = (System.nanoTime() - start) / 1e9;
        warmUpCreates = created;
        warmedUp = steady;
        log.printf("  raw SDK loop warm-up: %,d Creates in %.0f s (%s), the last %,.0f Creates/s; CPU per Create: "
                        + "emulator %.0f us, SDK client %.0f us%n", created, warmUpSeconds,
                steady ? "steady" : "not steady within its bound", warm[0], lastEmulator / 1e3, lastClient / 1e3);
    }

    private static boolean near(double value, double previous) {
        return previous > 0 && Math.abs(value - previous) <= STEADY_CPU_CHANGE * previous;
    }

    /** How long the warm-up ran, seconds. */
    double warmUpSeconds() {
        return warmUpSeconds;
    }

    /** Creates of the warm-up. */
    long warmUpCreates() {
        return warmUpCreates;
    }

    /** Whether the warm-up ended steady (else it ran into its time bound). */
    boolean warmedUp() {
        return warmedUp;
    }

    /** One measured ceiling: {perSecond, ok, errors} over {@code duration}. */
    double[] measure(Duration duration) throws Exception {
        url();
        long emulator0 = emulatorCpuNanos();
        long client0 = clientCpuNanos();
        Map<String, long[]> threads0 = ThreadCpu.snapshot();
        double[] r = loop(duration);
        long emulator1 = emulatorCpuNanos();
        long client1 = clientCpuNanos();
        Map<String, long[]> threads1 = ThreadCpu.snapshot();
        lastThreadMicros = ThreadCpu.microsPer(threads0, threads1, r[1]);
        lastSwitches = ThreadCpu.switchesPer(threads0, threads1, r[1]);
        lastSystemShare = ThreadCpu.systemShare(threads0, threads1);
        if (emulator0 >= 0 && emulator1 >= 0 && client0 >= 0 && client1 >= 0) {
            emulatorCpuNanos += emulator1 - emulator0;
            clientCpuNanos += client1 - client0;
            measuredCreates += (long) r[1];
        }
        return r;
    }

    /** This process's CPU time per Create by group of threads over the last {@link #measure}, microseconds. */
    Map<String, Double> lastThreadMicros() {
        return lastThreadMicros;
    }

    /** This process's context switches per Create over the last {@link #measure}. */
    double lastSwitchesPerCreate() {
        return lastSwitches;
    }

    /** The share of this process's CPU time spent in the kernel over the last {@link #measure}, 0 to 1. */
    double lastSystemShare() {
        return lastSystemShare;
    }

    /**
     * CPU time the emulator process spent per Create over the measured loops, microseconds (-1 when the OS does
     * not tell). Its inverse is what one core of the emulator could serve: whether it bounds the ceiling.
     */
    double emulatorCpuMicrosPerCreate() {
        return measuredCreates > 0 ? emulatorCpuNanos / 1e3 / measuredCreates : -1;
    }

    /** CPU time this process (the SDK client's loop) spent per Create over the measured loops, microseconds. */
    double clientCpuMicrosPerCreate() {
        return measuredCreates > 0 ? clientCpuNanos / 1e3 / measuredCreates : -1;
    }

    /** The emulator process's CPU time so far, nanoseconds (-1 when the OS does not tell). */
    long emulatorCpuNanos() {
        return emulator.process.toHandle().info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
    }

    /** This process's CPU time so far, nanoseconds (-1 when the OS does not tell). */
    static long clientCpuNanos() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : -1;
    }

    private double[] loop(Duration duration) {
        ChimeSdkVoiceAsyncClient client = clients.client(OriginationsBench.REGION);
        int inFlight = settings.sdkInFlight();
        AtomicLong ok = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        Flux.range(0, inFlight)
                .flatMap(w -> Mono.defer(() -> {
                    long n = seq.getAndIncrement();
                    CreateSipMediaApplicationCallRequest request = CreateSipMediaApplicationCallRequest.builder()
                            .sipMediaApplicationId(OriginationsBench.SMA)
                            .fromPhoneNumber(OriginationsBench.FROM.get((int) (n % OriginationsBench.FROM.size())))
                            .toPhoneNumber(Synthetic.number(n))
                            .argumentsMap(Map.of("campaignId", "bench-sdk", "attemptId", UUID.randomUUID().toString()))
                            .build();
                    return Mono.fromFuture(() -> client.createSipMediaApplicationCall(request))
                            .doOnNext(r -> ok.incrementAndGet())
                            .then()
                            .onErrorResume(e -> {
                                errors.incrementAndGet();
                                return Mono.empty();
                            });
                }).repeat(() -> System.nanoTime() < end), inFlight)
                .then()
                .block(duration.plusSeconds(60));
        double seconds = (System.nanoTime() - start) / 1e9;
        return new double[] {ok.get() / seconds, ok.get(), errors.get()};
    }

    @Override
    public void close() {
        if (clients != null) {
            clients.close();
        }
        if (emulator != null) {
            emulator.close();
        }
    }
}

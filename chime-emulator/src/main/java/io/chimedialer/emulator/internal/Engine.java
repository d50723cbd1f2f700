package io.chimedialer.emulator.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import io.chimedialer.emulator.ActiveCallLimitError;
import io.chimedialer.emulator.CallRecord;
import io.chimedialer.emulator.EmulatorRegion;
import io.chimedialer.emulator.EmulatorStats;
import io.chimedialer.emulator.Faults;
import io.chimedialer.emulator.RetrySequence;
import io.chimedialer.emulator.Scenario;
import io.chimedialer.emulator.SmaEndpoint;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The emulator's state: Regions and their quotas, the calls, the counters, and the endpoint the calls
 * invoke. Thread-safe; the REST API and every call simulation share one instance.
 */
public final class Engine implements AutoCloseable {

    /** The effective configuration, validated by the public builder. */
    public record Config(List<EmulatorRegion> regions, Scenario scenario, Faults faults, double timeScale, long seed,
                         boolean simulateCalls, int createStatus, Duration webhookTimeout,
                         ActiveCallLimitError activeCallLimitError, RetrySequence retrySequence,
                         boolean recordCalls) {
    }

    /** Per-Region quotas and counters. */
    static final class RegionState {
        final EmulatorRegion config;
        final TokenBucket creates;
        final TokenBucket updates;
        final SlidingWindow createWindow = new SlidingWindow();
        final AtomicInteger active = new AtomicInteger();
        final AtomicLong peakActive = new AtomicLong();
        final LongAdder created = new LongAdder();
        final LongAdder throttled = new LongAdder();
        final LongAdder resourceLimited = new LongAdder();
        final LongAdder updatesAccepted = new LongAdder();
        final LongAdder updatesThrottled = new LongAdder();

        RegionState(EmulatorRegion config) {
            this.config = config;
            this.creates = new TokenBucket(config.createTps());
            this.updates = new TokenBucket(config.updateTps());
        }
    }

    static final String ACCOUNT_ID = "123456789012";
    /** The disposition of a call in API-only mode. */
    static final String NOT_SIMULATED = "notSimulated";

    final Config config;
    final ObjectMapper mapper;
    final Clock clock = Clock.systemUTC();
    private final Instant startedAt = clock.instant();
    final Scheduler scheduler;
    private volatile SmaEndpoint endpoint;
    private final Map<String, RegionState> regionsByName = new LinkedHashMap<>();
    private final Map<String, RegionState> regionsBySma = new LinkedHashMap<>();
    private final ConcurrentHashMap<String, CallEntry> calls = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<CallEntry> callOrder = new ConcurrentLinkedQueue<>();
    private final ConcurrentHashMap<String, AtomicInteger> dialed = new ConcurrentHashMap<>();
    private final SplittableRandom faultRandom;

    final LongAdder created = new LongAdder();
    final LongAdder throttled = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder resourceLimited = new LongAdder();
    final LongAdder ended = new LongAdder();
    final LongAdder endedTwice = new LongAdder();
    final LongAdder duplicateNumbers = new LongAdder();
    final LongAdder invocations = new LongAdder();
    final LongAdder redeliveries = new LongAdder();
    final LongAdder invalidResponses = new LongAdder();
    final LongAdder budgetExhausted = new LongAdder();
    final LongAdder webhookFailures = new LongAdder();
    final LongAdder hangupsDropped = new LongAdder();
    final LongAdder hangupsWithoutSipCode = new LongAdder();
    final LongAdder updates = new LongAdder();
    final LongAdder updatesThrottled = new LongAdder();
    final AtomicLong active = new AtomicLong();
    final AtomicLong peakActive = new AtomicLong();
    final AtomicInteger inFlight = new AtomicInteger();
    private final LatencyHistogram webhookLatency = new LatencyHistogram();
    private final LatencyHistogram webhookLatencyHangup = new LatencyHistogram();
    private final ConcurrentHashMap<String, LongAdder> dispositions = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, LongAdder> faults = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, LongAdder> actionErrors = new ConcurrentHashMap<>();

    public Engine(Config config, SmaEndpoint endpoint) {
        this.config = config;
        this.endpoint = endpoint;
        this.mapper = newMapper();
        this.faultRandom = new SplittableRandom(config.seed() ^ 0x5DEECE66DL);
        for (EmulatorRegion r : config.regions()) {
            RegionState s = new RegionState(r);
            regionsByName.put(r.name(), s);
            regionsBySma.put(r.sipMediaApplicationId(), s);
        }
        this.scheduler = Schedulers.newParallel("chime-emulator-calls", Math.max(2, Runtime.getRuntime().availableProcessors()), true);
    }

    /** The JSON mapper used for the wire and ground truth (Instants as ISO-8601 strings). */
    public static ObjectMapper newMapper() {
        ObjectMapper m = new ObjectMapper();
        SimpleModule time = new SimpleModule("instants");
        time.addSerializer(Instant.class, ToStringSerializer.instance);
        time.addSerializer(Duration.class, ToStringSerializer.instance);
        m.registerModule(time);
        m.disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
        return m;
    }

    public ObjectMapper mapper() {
        return mapper;
    }

    public Config config() {
        return config;
    }

    public void endpoint(SmaEndpoint endpoint) {
        this.endpoint = endpoint;
    }

    SmaEndpoint endpoint() {
        return endpoint;
    }

    RegionState regionOfSma(String smaId) {
        return regionsBySma.get(smaId);
    }

    CallEntry call(String transactionId) {
        return calls.get(transactionId);
    }

    /** When this emulator started: its SIP media applications' creation time. */
    Instant startedAt() {
        return startedAt;
    }

    Instant now() {
        return clock.instant();
    }

    /** True with probability p, drawn from the seeded fault generator. */
    boolean chance(double p) {
        if (p <= 0) {
            return false;
        }
        synchronized (faultRandom) {
            return faultRandom.nextDouble() < p;
        }
    }

    /** A uniform draw in [0, 1) from the seeded fault generator. */
    double draw() {
        synchronized (faultRandom) {
            return faultRandom.nextDouble();
        }
    }

    void countFault(String kind) {
        faults.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    /** Counts an ACTION_FAILED invocation by its ErrorType. */
    void countActionError(String errorType) {
        actionErrors.computeIfAbsent(errorType, k -> new LongAdder()).increment();
    }

    /** Takes an active-call slot in the Region, or returns false at the quota. */
    boolean reserveActive(RegionState r) {
        while (true) {
            int n = r.active.get();
            if (n >= r.config.maxActiveCalls()) {
                return false;
            }
            if (r.active.compareAndSet(n, n + 1)) {
                r.peakActive.accumulateAndGet(n + 1, Math::max);
                long all = active.incrementAndGet();
                peakActive.accumulateAndGet(all, Math::max);
                return true;
            }
        }
    }

    /** A delivery of an invocation of this type was answered {@code nanos} after its send. */
    void webhookAnswered(String type, long nanos) {
        webhookLatency.answered(nanos);
        if ("HANGUP".equals(type)) {
            webhookLatencyHangup.answered(nanos);
        }
    }

    /** A delivery of an invocation of this type got no answer: timed out, or failed before the timeout. */
    void webhookNotAnswered(String type, boolean timedOut) {
        for (LatencyHistogram h : "HANGUP".equals(type)
                ? List.of(webhookLatency, webhookLatencyHangup) : List.of(webhookLatency)) {
            if (timedOut) {
                h.timedOut();
            } else {
                h.failed();
            }
        }
    }

    void releaseActive(RegionState r) {
        r.active.decrementAndGet();
        active.decrementAndGet();
    }

    /**
     * Creates a call whose active slot was already reserved (when simulating) and starts its simulation;
     * in API-only mode the call is recorded (unless {@link Config#recordCalls} is off) and ended at once.
     */
    String createCall(RegionState region, String from, String to, Map<String, String> arguments,
                      Map<String, String> sipHeaders) {
        String tx = uuid();
        // Without records (API-only, a long load run) nothing is kept per number either: no duplicate is counted.
        int occurrence = config.recordCalls() ? dialed.computeIfAbsent(to, k -> new AtomicInteger()).getAndIncrement()
                : 0;
        if (occurrence == 1) {
            duplicateNumbers.increment();
        }
        created.increment();
        region.created.increment();
        region.createWindow.record();
        if (!config.simulateCalls()) {
            if (config.recordCalls()) {
                UnsimulatedCall call = new UnsimulatedCall(tx, region.config.sipMediaApplicationId(),
                        region.config.name(), from, to, Map.copyOf(arguments), Map.copyOf(sipHeaders), now());
                calls.put(tx, call);
                callOrder.add(call);
            }
            ended.increment();
            dispositions.computeIfAbsent(NOT_SIMULATED, k -> new LongAdder()).increment();
            return tx;
        }
        Scenario.Callee callee = config.scenario().resolve(to, config.seed(), occurrence);
        CallSimulation call = new CallSimulation(this, region, tx, from, to, arguments, sipHeaders, callee);
        calls.put(tx, call);
        callOrder.add(call);
        call.start();
        return tx;
    }

    /** A random (version 4) UUID from a thread-local generator: SecureRandom would serialise every Create. */
    static String uuid() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long msb = (r.nextLong() & ~0xF000L) | 0x4000L;
        long lsb = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(msb, lsb).toString();
    }

    void onEnded(CallSimulation call, String disposition) {
        ended.increment();
        dispositions.computeIfAbsent(disposition, k -> new LongAdder()).increment();
        releaseActive(call.region);
    }

    /** Scaled emulated duration in nanoseconds. */
    long scaledNanos(long emulatedMillis) {
        double n = emulatedMillis * 1e6 * config.timeScale();
        return n <= 0 ? 0 : (long) Math.min(n, Long.MAX_VALUE / 2.0);
    }

    /** True when no call is active and no invocation is in flight. */
    public boolean idle() {
        return active.get() == 0 && inFlight.get() == 0;
    }

    public List<CallRecord> calls() {
        List<CallRecord> out = new ArrayList<>();
        for (CallEntry c : callOrder) {
            out.add(c.snapshot());
        }
        return out;
    }

    public EmulatorStats stats() {
        Map<String, EmulatorStats.RegionStats> regions = new LinkedHashMap<>();
        for (RegionState r : regionsByName.values()) {
            regions.put(r.config.name(), new EmulatorStats.RegionStats(r.created.sum(), r.throttled.sum(),
                    r.resourceLimited.sum(), r.active.get(), r.peakActive.get(), r.createWindow.max(),
                    r.updatesAccepted.sum(), r.updatesThrottled.sum()));
        }
        return new EmulatorStats(created.sum(), throttled.sum(), rejected.sum(), resourceLimited.sum(), active.get(),
                peakActive.get(), ended.sum(), endedTwice.sum(), duplicateNumbers.sum(), invocations.sum(),
                redeliveries.sum(), invalidResponses.sum(), budgetExhausted.sum(), webhookFailures.sum(),
                hangupsDropped.sum(), hangupsWithoutSipCode.sum(), updates.sum(), updatesThrottled.sum(),
                sums(dispositions), sums(faults), sums(actionErrors), regions, webhookLatency.snapshot(),
                webhookLatencyHangup.snapshot());
    }

    private static Map<String, Long> sums(Map<String, LongAdder> m) {
        Map<String, Long> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    /** The {@code GET /emulator/v1/config} document. */
    public Map<String, Object> configView(String webhookUrl) {
        Map<String, Object> regions = new LinkedHashMap<>();
        for (EmulatorRegion r : config.regions()) {
            Map<String, Object> v = new LinkedHashMap<>();
            v.put("sipMediaApplicationId", r.sipMediaApplicationId());
            v.put("fromNumbers", r.fromNumbers());
            v.put("quotas", Map.of("createTps", r.createTps(), "updateTps", r.updateTps(),
                    "maxActiveCalls", r.maxActiveCalls()));
            regions.put(r.name(), v);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("regions", regions);
        out.put("scenario", config.scenario().toDocument());
        out.put("timeScale", config.timeScale());
        out.put("seed", config.seed());
        out.put("simulateCalls", config.simulateCalls());
        out.put("recordCalls", config.recordCalls());
        out.put("createStatus", config.createStatus());
        out.put("webhookTimeoutMs", config.webhookTimeout().toMillis());
        out.put("activeCallLimitError", config.activeCallLimitError().key());
        out.put("retrySequence", config.retrySequence().key());
        out.put("webhook", webhookUrl);
        out.put("faults", config.faults());
        out.put("awsAccountId", ACCOUNT_ID);
        return out;
    }

    @Override
    public void close() {
        scheduler.dispose();
    }
}

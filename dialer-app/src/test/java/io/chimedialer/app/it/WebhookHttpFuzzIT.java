package io.chimedialer.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.core.webhook.WebhookSignature;
import io.chimedialer.emulator.Faults;
import io.chimedialer.emulator.Scenario;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 4's robustness acceptance: 10,000 random and mutated bodies POSTed to the real HTTP server's
 * {@code /v1/sma/invocations} (most validly signed, some with a wrong, stale or missing signature, a few over
 * 256 KiB) get only 200, 400, 401 or 413, each where it belongs, never a 5xx; {@code /healthz} still answers.
 */
class WebhookHttpFuzzIT {
    /** 10,000 in the {@code scale} profile. */
    private static final int REQUESTS = Integer.getInteger("scale.fuzz.requests", 3_000);
    private static final int CONCURRENCY = 16;
    private static final long SEED = 20_261_127L;

    private static final String[] EVENTS = {"NEW_OUTBOUND_CALL", "RINGING", "CALL_ANSWERED", "ACTION_SUCCESSFUL",
            "ACTION_FAILED", "ACTION_INTERRUPTED", "DIGITS_RECEIVED", "HANGUP", "CALL_UPDATE_REQUESTED",
            "INVALID_LAMBDA_RESPONSE", "NEW_INBOUND_CALL", "SOMETHING_NEW"};
    private static final String[] ODD_VALUES = {"null", "true", "-1", "1e309", "\"\"", "[]", "{}", "\"\\u0000\"",
            "9223372036854775808", "\"\uD83D\uDE00\"", "[[[[[[]]]]]]", "\"x\"", "0.5", "{\"a\":{\"b\":[1,2,{}]}}"};

    @TempDir
    Path dir;

    /** What was sent, so the expected status can be judged. */
    private enum Auth { VALID, WRONG, STALE, MISSING, GARBLED }

    private record Probe(byte[] body, Auth auth, boolean wellFormed, boolean big) {
    }

    @Test
    void webhook_tenThousandRandomAndMutatedBodies_onlyExpectedStatusesAndStillHealthy() throws Exception {
        try (EmulatedDialer it = EmulatedDialer.start(dir, EmulatedDialer.twoRegions(10, 10, 10, 10),
                Scenario.defaults(), Faults.none(), 0.001, 1, null)) {
            URI webhook = URI.create("http://127.0.0.1:" + it.runtime().port() + "/v1/sma/invocations");
            WebhookSignature signer = new WebhookSignature(EmulatedDialer.SECRET, Clock.systemUTC());
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10)).build();
            Random random = new Random(SEED);
            Semaphore slots = new Semaphore(CONCURRENCY);
            Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
            List<String> unexpected = java.util.Collections.synchronizedList(new ArrayList<>());
            List<CompletableFuture<?>> inFlight = new ArrayList<>();
            for (int i = 0; i < REQUESTS; i++) {
                Probe probe = probe(random, i);
                if (probe.big()) {
                    // Java 17's HttpClient hangs on a final status sent instead of "100 Continue", and a client
                    // still writing the body when the server answers and closes may see a reset instead of the
                    // answer: these few go over a plain socket that announces the size and reads the answer.
                    int status = rawStatus(webhook, probe, signer);
                    statuses.computeIfAbsent(status, x -> new AtomicLong()).incrementAndGet();
                    if (status != expectedStatus(probe)) {
                        unexpected.add("#" + i + " big " + probe.auth() + " -> " + status);
                    }
                    continue;
                }
                HttpRequest request = request(webhook, probe, signer, random);
                assertThat(slots.tryAcquire(60, TimeUnit.SECONDS)).as("a request slot within 60 s").isTrue();
                int index = i;
                inFlight.add(client.sendAsync(request, HttpResponse.BodyHandlers.ofString())
                        .orTimeout(30, TimeUnit.SECONDS)
                        .whenComplete((response, error) -> {
                            slots.release();
                            if (error != null) {
                                unexpected.add("#" + index + " " + probe.auth() + ": " + error);
                                return;
                            }
                            int status = response.statusCode();
                            statuses.computeIfAbsent(status, s -> new AtomicLong()).incrementAndGet();
                            int expected = expectedStatus(probe);
                            boolean ok = expected == 0 ? status == 200 || status == 400 : status == expected;
                            if (!ok) {
                                unexpected.add("#" + index + " " + probe.auth() + " wellFormed=" + probe.wellFormed()
                                        + " big=" + probe.big() + " -> " + status + " " + response.body());
                            }
                        }));
            }
            CompletableFuture.allOf(inFlight.toArray(CompletableFuture[]::new)).exceptionally(e -> null)
                    .get(120, TimeUnit.SECONDS);
            System.out.println("WebhookHttpFuzzIT statuses: " + statuses);

            assertThat(unexpected).as("responses other than the expected status").isEmpty();
            assertThat(statuses.keySet()).isSubsetOf(200, 400, 401, 413);
            assertThat(statuses.values().stream().mapToLong(AtomicLong::get).sum()).isEqualTo(REQUESTS);
            assertThat(statuses.get(200)).as("200s").isNotNull();
            assertThat(statuses.get(400)).as("400s").isNotNull();
            assertThat(statuses.get(401)).as("401s").isNotNull();
            assertThat(statuses.get(413)).as("413s").isNotNull();

            HttpResponse<String> health = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + it.runtime().port() + "/healthz")).timeout(Duration.ofSeconds(10))
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            // The server still does its job: a well-formed, signed invocation of an unknown call gets a 200.
            byte[] valid = template(new Random(1), "CALL_ANSWERED").getBytes(StandardCharsets.UTF_8);
            long now = signer.nowSeconds();
            HttpResponse<String> after = client.send(HttpRequest.newBuilder(webhook).timeout(Duration.ofSeconds(10))
                    .header(WebhookSignature.TIMESTAMP_HEADER, Long.toString(now))
                    .header(WebhookSignature.SIGNATURE_HEADER, signer.sign(now, valid))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(valid)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(after.statusCode()).isEqualTo(200);
            assertThat(after.body()).contains("\"SchemaVersion\":\"1.0\"");
        }
    }

    /** 0 means "200 or 400" (a signed body whose content decides); otherwise the one status it must get. */
    private static int expectedStatus(Probe probe) {
        if (probe.big()) {
            return 413;
        }
        if (probe.auth() != Auth.VALID) {
            return 401;
        }
        return probe.wellFormed() ? 200 : 0;
    }

    private static Probe probe(Random random, int i) {
        Auth auth;
        int a = random.nextInt(100);
        if (a < 82) {
            auth = Auth.VALID;
        } else if (a < 88) {
            auth = Auth.WRONG;
        } else if (a < 92) {
            auth = Auth.STALE;
        } else if (a < 96) {
            auth = Auth.MISSING;
        } else {
            auth = Auth.GARBLED;
        }
        if (i % 500 == 250) { // 20 bodies over 256 KiB
            StringBuilder big = new StringBuilder(template(random, "CALL_ANSWERED"));
            big.insert(1, "\"Padding\":\"" + "x".repeat(256 * 1024 + random.nextInt(4096)) + "\",");
            return new Probe(big.toString().getBytes(StandardCharsets.UTF_8), auth, false, true);
        }
        String event = EVENTS[random.nextInt(EVENTS.length)];
        int kind = random.nextInt(10);
        if (kind < 3) {
            // Well-formed: every documented event of an unknown call is answered 200.
            return new Probe(template(random, event).getBytes(StandardCharsets.UTF_8), auth, true, false);
        }
        if (kind < 8) {
            return new Probe(mutate(random, template(random, event)), auth, false, false);
        }
        return new Probe(noise(random), auth, false, false);
    }

    /** A documented-looking invocation of a call the dialer does not know. */
    static String template(Random random, String event) {
        String tx = UUID.nameUUIDFromBytes(Long.toString(random.nextLong()).getBytes(StandardCharsets.UTF_8))
                .toString();
        String actionData = switch (event) {
            case "NEW_OUTBOUND_CALL" -> ",\"ActionData\":{\"Type\":\"CallCreateRequest\",\"Parameters\":{\"Arguments\":"
                    + "{\"attemptId\":\"" + UUID.randomUUID() + "\",\"campaignId\":\"fuzz\"}}}";
            case "ACTION_SUCCESSFUL" -> ",\"ActionData\":{\"Type\":\"SpeakAndGetDigits\",\"Parameters\":{\"CallId\":\"c1\","
                    + "\"Text\":\"hi\"},\"ReceivedDigits\":\"" + random.nextInt(10) + "\"}";
            case "ACTION_FAILED" -> ",\"ActionData\":{\"Type\":\"Speak\",\"Parameters\":{\"CallId\":\"c1\"},"
                    + "\"ErrorType\":\"InvalidActionParameter\",\"ErrorMessage\":\"bad\"}";
            case "HANGUP" -> ",\"ActionData\":{\"Type\":\"Hangup\",\"Parameters\":{\"SipResponseCode\":"
                    + (random.nextBoolean() ? "\"486\"" : "0") + ",\"CallId\":\"c1\",\"ParticipantTag\":\"LEG-A\"}}";
            case "DIGITS_RECEIVED" -> ",\"ActionData\":{\"Type\":\"ReceiveDigits\",\"ReceivedDigits\":\"12\"}";
            case "INVALID_LAMBDA_RESPONSE" -> ",\"ErrorType\":\"TooManyActions\",\"ErrorMessage\":\"too many\"";
            default -> "";
        };
        String direction = event.equals("NEW_INBOUND_CALL") ? "Inbound" : "Outbound";
        return "{\"SchemaVersion\":\"1.0\",\"Sequence\":" + (1 + random.nextInt(50)) + ",\"InvocationEventType\":\""
                + event + "\"" + actionData + ",\"CallDetails\":{\"TransactionId\":\"" + tx + "\","
                + "\"TransactionAttributes\":{\"k\":\"v\"},\"AwsAccountId\":\"123456789012\",\"AwsRegion\":\"us-east-1\","
                + "\"SipMediaApplicationId\":\"11111111-1111-4111-8111-111111111111\",\"Participants\":[{"
                + "\"CallId\":\"c1\",\"ParticipantTag\":\"LEG-A\",\"To\":\"+12125550123\",\"From\":\"+17035550100\","
                + "\"Direction\":\"" + direction + "\",\"StartTimeInMilliseconds\":\"1700000000000\","
                + "\"Status\":\"Connected\"}]}}";
    }

    /** One to three mutations of a template: byte flips, cuts, splices, odd values, deep nesting. */
    static byte[] mutate(Random random, String json) {
        String s = json;
        int n = 1 + random.nextInt(3);
        for (int m = 0; m < n && !s.isEmpty(); m++) {
            int at = random.nextInt(s.length());
            switch (random.nextInt(9)) {
                case 0 -> s = s.substring(0, at); // truncated
                case 1 -> s = s.substring(0, at) + (char) random.nextInt(0x80) + s.substring(at);
                case 2 -> s = s.substring(0, at) + s.substring(Math.min(s.length(), at + 1 + random.nextInt(20)));
                case 3 -> s = s.replaceFirst(":\"[^\"]*\"", ":" + ODD_VALUES[random.nextInt(ODD_VALUES.length)]);
                case 4 -> s = s.replaceFirst(":[0-9]+", ":" + ODD_VALUES[random.nextInt(ODD_VALUES.length)]);
                case 5 -> s = s.replace("\"TransactionId\"", random.nextBoolean() ? "\"transactionid\"" : "\"Tx\"");
                case 6 -> s = "[".repeat(1 + random.nextInt(3000)) + s; // deep nesting
                case 7 -> s = s.replace("CallDetails", ODD_VALUES[random.nextInt(ODD_VALUES.length)]);
                default -> {
                    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
                    bytes[random.nextInt(bytes.length)] = (byte) (0x80 + random.nextInt(0x80)); // invalid UTF-8
                    return bytes;
                }
            }
        }
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Random bytes, random text, or an empty body. */
    static byte[] noise(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> new byte[0];
            case 1 -> {
                byte[] b = new byte[random.nextInt(2048)];
                random.nextBytes(b);
                yield b;
            }
            case 2 -> ODD_VALUES[random.nextInt(ODD_VALUES.length)].getBytes(StandardCharsets.UTF_8);
            default -> ("{\"SchemaVersion\":\"1.0\",\"CallDetails\":{\"TransactionId\":" + random.nextInt() + "}")
                    .getBytes(StandardCharsets.UTF_8);
        };
    }

    /** POSTs the headers of a big body (its Content-Length) and a first part of it; returns the status. */
    private static int rawStatus(URI webhook, Probe probe, WebhookSignature signer) throws java.io.IOException {
        try (java.net.Socket socket = new java.net.Socket(webhook.getHost(), webhook.getPort())) {
            socket.setSoTimeout(30_000);
            long now = signer.nowSeconds();
            StringBuilder head = new StringBuilder("POST ").append(webhook.getPath()).append(" HTTP/1.1\r\n")
                    .append("Host: ").append(webhook.getHost()).append(':').append(webhook.getPort()).append("\r\n")
                    .append("Content-Type: application/json\r\n")
                    .append("Content-Length: ").append(probe.body().length).append("\r\n");
            if (probe.auth() == Auth.VALID) {
                head.append(WebhookSignature.TIMESTAMP_HEADER).append(": ").append(now).append("\r\n")
                        .append(WebhookSignature.SIGNATURE_HEADER).append(": ").append(signer.sign(now, probe.body()))
                        .append("\r\n");
            }
            head.append("\r\n");
            java.io.OutputStream out = socket.getOutputStream();
            out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
            try {
                out.write(probe.body(), 0, 8192);
                out.flush();
            } catch (java.io.IOException e) {
                // the server may already have answered and closed
            }
            java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(
                    socket.getInputStream(), StandardCharsets.US_ASCII));
            String statusLine = in.readLine();
            assertThat(statusLine).as("status line").isNotNull().startsWith("HTTP/1.1 ");
            return Integer.parseInt(statusLine.substring(9, 12));
        }
    }

    private static HttpRequest request(URI webhook, Probe probe, WebhookSignature signer, Random random) {
        HttpRequest.Builder b = HttpRequest.newBuilder(webhook).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(probe.body()));
        long now = signer.nowSeconds();
        switch (probe.auth()) {
            case VALID -> b.header(WebhookSignature.TIMESTAMP_HEADER, Long.toString(now))
                    .header(WebhookSignature.SIGNATURE_HEADER, signer.sign(now, probe.body()));
            case WRONG -> {
                byte[] other = probe.body().length == 0 ? new byte[] {'x'} : probe.body().clone();
                other[random.nextInt(other.length)] ^= 1; // signed a tampered body
                b.header(WebhookSignature.TIMESTAMP_HEADER, Long.toString(now))
                        .header(WebhookSignature.SIGNATURE_HEADER, signer.sign(now, other));
            }
            case STALE -> {
                long then = now - 301 - random.nextInt(100_000);
                b.header(WebhookSignature.TIMESTAMP_HEADER, Long.toString(then))
                        .header(WebhookSignature.SIGNATURE_HEADER, signer.sign(then, probe.body()));
            }
            case MISSING -> {
                if (random.nextBoolean()) {
                    b.header(WebhookSignature.TIMESTAMP_HEADER, Long.toString(now));
                }
            }
            case GARBLED -> b.header(WebhookSignature.TIMESTAMP_HEADER, random.nextBoolean() ? "soon" : " " + now)
                    .header(WebhookSignature.SIGNATURE_HEADER, random.nextBoolean() ? "v1=zz" : "v2=" + "0".repeat(64));
        }
        return b.build();
    }
}

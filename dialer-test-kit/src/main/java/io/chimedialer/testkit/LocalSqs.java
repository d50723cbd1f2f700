package io.chimedialer.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small Amazon SQS-compatible server for tests, on 127.0.0.1 and a free port: the AWS JSON 1.0 protocol that
 * the AWS SDK for Java v2's SQS clients speak ({@code POST /} with {@code X-Amz-Target: AmazonSQS.<Operation>}),
 * for CreateQueue, GetQueueUrl, SendMessage, ReceiveMessage (long polling, visibility timeout, String message
 * attributes) and DeleteMessage, with the MD5 digests the SDK checks. Standard queues only: delivery at least once,
 * order not guaranteed (here: oldest visible first). Signatures are not checked. Thread-safe; close it to stop.
 */
public final class LocalSqs implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ACCOUNT = "000000000000";

    private final HttpServer server;
    private final ExecutorService executor;
    private final Map<String, Queue> queues = new ConcurrentHashMap<>();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong deleted = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final List<String> history = java.util.Collections.synchronizedList(new ArrayList<>());

    private LocalSqs(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Starts a server on 127.0.0.1 and a free port. */
    public static LocalSqs start() {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
            ExecutorService executor = Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "local-sqs");
                t.setDaemon(true);
                return t;
            });
            LocalSqs sqs = new LocalSqs(server, executor);
            server.createContext("/", sqs::handle);
            server.setExecutor(executor);
            server.start();
            return sqs;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the local SQS server: " + e, e);
        }
    }

    /** The endpoint, e.g. {@code http://127.0.0.1:4567}. */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Creates a queue (or returns the existing one's URL). */
    public URI createQueue(String name) {
        return URI.create(queue(name).url);
    }

    /** Messages in the queue, visible or in flight. */
    public int depth(String name) {
        Queue q = queues.get(name);
        return q == null ? 0 : q.size();
    }

    /** SendMessage calls accepted, over all queues. */
    public long sent() {
        return sent.get();
    }

    /** Messages handed out by ReceiveMessage (a message received twice counts twice). */
    public long received() {
        return received.get();
    }

    /** Messages deleted. */
    public long deleted() {
        return deleted.get();
    }

    /** Every body sent, over all queues, in the order the sends were accepted. */
    public List<String> sentBodies() {
        synchronized (history) {
            return List.copyOf(history);
        }
    }

    /** The bodies now in a queue, oldest first. */
    public List<String> bodies(String name) {
        Queue q = queues.get(name);
        return q == null ? List.of() : q.bodies();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    private Queue queue(String name) {
        return queues.computeIfAbsent(name, n -> new Queue(endpoint() + "/" + ACCOUNT + "/" + n));
    }

    private Queue byUrl(JsonNode request) {
        String url = request.path("QueueUrl").asText("");
        String name = url.substring(url.lastIndexOf('/') + 1);
        return queues.get(name);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body = exchange.getRequestBody().readAllBytes();
            String target = exchange.getRequestHeaders().getFirst("X-Amz-Target");
            String operation = target == null ? "" : target.substring(target.indexOf('.') + 1);
            JsonNode request = body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
            ObjectNode response = JSON.createObjectNode();
            switch (operation) {
                case "CreateQueue" -> response.put("QueueUrl", queue(request.path("QueueName").asText()).url);
                case "GetQueueUrl" -> {
                    Queue q = queues.get(request.path("QueueName").asText());
                    if (q == null) {
                        error(exchange, "QueueDoesNotExist", "The specified queue does not exist.");
                        return;
                    }
                    response.put("QueueUrl", q.url);
                }
                case "SendMessage" -> {
                    Queue q = byUrl(request);
                    if (q == null) {
                        error(exchange, "QueueDoesNotExist", "The specified queue does not exist.");
                        return;
                    }
                    String text = request.path("MessageBody").asText();
                    Map<String, String> attributes = new TreeMap<>();
                    request.path("MessageAttributes").properties().forEach(
                            e -> attributes.put(e.getKey(), e.getValue().path("StringValue").asText()));
                    Message m = q.add(text, attributes);
                    sent.incrementAndGet();
                    history.add(text);
                    response.put("MessageId", m.id);
                    response.put("MD5OfMessageBody", md5(text.getBytes(StandardCharsets.UTF_8)));
                    if (!attributes.isEmpty()) {
                        response.put("MD5OfMessageAttributes", attributesMd5(attributes));
                    }
                }
                case "ReceiveMessage" -> {
                    Queue q = byUrl(request);
                    if (q == null) {
                        error(exchange, "QueueDoesNotExist", "The specified queue does not exist.");
                        return;
                    }
                    int max = Math.max(1, Math.min(10, request.path("MaxNumberOfMessages").asInt(1)));
                    long waitMillis = Math.min(20, request.path("WaitTimeSeconds").asInt(0)) * 1000L;
                    long visibilityMillis = request.has("VisibilityTimeout")
                            ? request.path("VisibilityTimeout").asLong() * 1000L : 30_000L;
                    List<Message> got = q.receive(max, waitMillis, visibilityMillis);
                    ArrayNode messages = response.putArray("Messages");
                    for (Message m : got) {
                        received.incrementAndGet();
                        ObjectNode out = messages.addObject();
                        out.put("MessageId", m.id);
                        out.put("ReceiptHandle", m.receipt);
                        out.put("Body", m.body);
                        out.put("MD5OfBody", md5(m.body.getBytes(StandardCharsets.UTF_8)));
                        if (!m.attributes.isEmpty()) {
                            ObjectNode attrs = out.putObject("MessageAttributes");
                            m.attributes.forEach((k, v) -> attrs.putObject(k).put("DataType", "String")
                                    .put("StringValue", v));
                            out.put("MD5OfMessageAttributes", attributesMd5(m.attributes));
                        }
                        out.putObject("Attributes").put("ApproximateReceiveCount", Integer.toString(m.receives))
                                .put("SentTimestamp", Long.toString(m.sentAt));
                    }
                }
                case "DeleteMessage" -> {
                    Queue q = byUrl(request);
                    if (q != null && q.delete(request.path("ReceiptHandle").asText())) {
                        deleted.incrementAndGet();
                    }
                }
                default -> {
                    error(exchange, "InvalidAction", "not supported here: " + operation);
                    return;
                }
            }
            reply(exchange, 200, JSON.writeValueAsBytes(response), null);
        } catch (RuntimeException e) {
            error(exchange, "InternalError", e.toString());
        }
    }

    private static void error(HttpExchange exchange, String code, String message) throws IOException {
        ObjectNode body = JSON.createObjectNode().put("__type", "com.amazonaws.sqs#" + code).put("message", message);
        reply(exchange, code.equals("InternalError") ? 500 : 400, JSON.writeValueAsBytes(body), code);
    }

    private static void reply(HttpExchange exchange, int status, byte[] body, String errorCode) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "application/x-amz-json-1.0");
        exchange.getResponseHeaders().set("x-amzn-RequestId", UUID.randomUUID().toString());
        if (errorCode != null) {
            exchange.getResponseHeaders().set("x-amzn-query-error", "AWS.SimpleQueueService." + errorCode + ";Sender");
        }
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    private static String md5(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** SQS's digest of message attributes: per name in order, length-prefixed name, type, 1 (String), value. */
    private static String attributesMd5(Map<String, String> attributes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Map.Entry<String, String> e : new TreeMap<>(attributes).entrySet()) {
            lengthPrefixed(out, e.getKey().getBytes(StandardCharsets.UTF_8));
            lengthPrefixed(out, "String".getBytes(StandardCharsets.UTF_8));
            out.write(1);
            lengthPrefixed(out, e.getValue().getBytes(StandardCharsets.UTF_8));
        }
        return md5(out.toByteArray());
    }

    private static void lengthPrefixed(ByteArrayOutputStream out, byte[] bytes) {
        out.writeBytes(ByteBuffer.allocate(4).putInt(bytes.length).array());
        out.writeBytes(bytes);
    }

    private static final class Message {
        final String id = UUID.randomUUID().toString();
        final String body;
        final Map<String, String> attributes;
        final long sentAt = System.currentTimeMillis();
        String receipt;
        long invisibleUntil;
        int receives;

        Message(String body, Map<String, String> attributes) {
            this.body = body;
            this.attributes = attributes;
        }
    }

    private static final class Queue {
        final String url;
        private final LinkedHashMap<String, Message> messages = new LinkedHashMap<>();

        Queue(String url) {
            this.url = url;
        }

        synchronized Message add(String body, Map<String, String> attributes) {
            Message m = new Message(body, Map.copyOf(attributes));
            messages.put(m.id, m);
            notifyAll();
            return m;
        }

        synchronized int size() {
            return messages.size();
        }

        synchronized List<String> bodies() {
            List<String> out = new ArrayList<>();
            messages.values().forEach(m -> out.add(m.body));
            return out;
        }

        synchronized List<Message> receive(int max, long waitMillis, long visibilityMillis) {
            long deadline = System.currentTimeMillis() + waitMillis;
            while (true) {
                long now = System.currentTimeMillis();
                List<Message> out = new ArrayList<>();
                long nextVisible = Long.MAX_VALUE;
                for (Message m : messages.values()) {
                    if (m.invisibleUntil <= now) {
                        m.invisibleUntil = now + visibilityMillis;
                        m.receipt = m.id + "#" + UUID.randomUUID();
                        m.receives++;
                        out.add(m);
                        if (out.size() == max) {
                            break;
                        }
                    } else {
                        nextVisible = Math.min(nextVisible, m.invisibleUntil);
                    }
                }
                if (!out.isEmpty() || now >= deadline) {
                    return out;
                }
                try {
                    wait(Math.max(1, Math.min(deadline, nextVisible) - now));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return out;
                }
            }
        }

        synchronized boolean delete(String receipt) {
            for (Iterator<Message> it = messages.values().iterator(); it.hasNext(); ) {
                Message m = it.next();
                if (receipt.equals(m.receipt)) {
                    it.remove();
                    return true;
                }
            }
            return false;
        }
    }
}

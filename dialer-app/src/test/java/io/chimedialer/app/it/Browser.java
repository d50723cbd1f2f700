package io.chimedialer.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

/**
 * A headless Chromium driven through chromedriver's W3C WebDriver protocol (JSON over HTTP on loopback), with
 * {@link java.net.http.HttpClient}: only the commands the console's browser test needs. Each instance starts its own
 * chromedriver on a free port and a fresh profile directory; {@link #close()} ends both.
 */
final class Browser implements AutoCloseable {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final String ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** WebDriver's error for an element no longer in the page. */
    private static final String STALE = "stale element reference";
    /** Finds and tries of one step on an element the page keeps replacing. */
    private static final int STALE_TRIES = 5;

    private final Process driver;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI base;
    private final String session;

    /** Whether Debian's chromium and chromium-driver are installed. */
    static boolean installed() {
        return Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    }

    private Browser(Process driver, URI base, String session) {
        this.driver = driver;
        this.base = base;
        this.session = session;
    }

    /** Starts chromedriver and a headless Chromium with a fresh profile under {@code profile}. */
    static Browser start(Path profile, Path log) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Process driver = new ProcessBuilder(CHROMEDRIVER.toString(), "--port=" + port, "--allowed-ips=127.0.0.1")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        URI base = URI.create("http://127.0.0.1:" + port);
        try {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            io.chimedialer.testkit.Await.upTo(Duration.ofSeconds(20), "chromedriver ready").pollEvery(
                    Duration.ofMillis(100)).until(() -> {
                        try {
                            HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/status"))
                                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                            return JSON.readTree(r.body()).path("value").path("ready").asBoolean();
                        } catch (IOException notYet) {
                            return false;
                        }
                    });
            ObjectNode options = JSON.createObjectNode().put("binary", CHROMIUM.toString());
            ArrayNode args = options.putArray("args");
            for (String arg : List.of("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,1600", "--user-data-dir=" + profile)) {
                args.add(arg);
            }
            ObjectNode body = JSON.createObjectNode();
            ObjectNode always = body.putObject("capabilities").putObject("alwaysMatch");
            always.put("browserName", "chrome");
            always.set("goog:chromeOptions", options);
            always.putObject("timeouts").put("implicit", 0).put("pageLoad", 30_000).put("script", 30_000);
            JsonNode created = send(http, "POST", base.resolve("/session"), body);
            return new Browser(driver, base, created.path("sessionId").asText());
        } catch (Exception | Error e) {
            driver.destroy();
            throw e;
        }
    }

    /** Loads a page and waits for it. */
    void get(String url) throws Exception {
        command("POST", "/url", JSON.createObjectNode().put("url", url));
    }

    String url() throws Exception {
        return command("GET", "/url", null).asText();
    }

    String title() throws Exception {
        return command("GET", "/title", null).asText();
    }

    /** The element's id, or null when the page has none matching. */
    String find(String css) throws Exception {
        JsonNode found = command("POST", "/elements", JSON.createObjectNode().put("using", "css selector")
                .put("value", css));
        return found.isEmpty() ? null : found.get(0).path(ELEMENT).asText();
    }

    private String require(String css) throws Exception {
        String id = find(css);
        if (id == null) {
            throw new AssertionError("no element '" + css + "' on " + url() + ":\n" + text("body"));
        }
        return id;
    }

    /** One WebDriver step on an element found by its selector. */
    @FunctionalInterface
    private interface ElementStep<T> {
        T apply(String id) throws Exception;
    }

    /**
     * Runs {@code step} on the element {@code css} finds, finding it again when the page replaced it in between: the
     * console's script swaps its live fragments every 2 s, so an element found a moment ago can be gone from the page
     * (WebDriver's "stale element reference") though the same element is there anew. A user would click again.
     */
    private <T> T onElement(String css, boolean required, T absent, ElementStep<T> step) throws Exception {
        for (int tries = 1; ; tries++) {
            String id = required ? require(css) : find(css);
            if (id == null) {
                return absent;
            }
            try {
                return step.apply(id);
            } catch (IllegalStateException e) {
                if (tries >= STALE_TRIES || !String.valueOf(e.getMessage()).contains(STALE)) {
                    throw e;
                }
                System.out.println("Browser: '" + css + "' was replaced by the page before its step; finding it again");
            }
        }
    }

    void click(String css) throws Exception {
        onElement(css, true, null, id -> command("POST", "/element/" + id + "/click", JSON.createObjectNode()));
    }

    /** Types into a field after clearing it (a file input takes a path). */
    void type(String css, String text) throws Exception {
        onElement(css, true, null, id -> {
            if (!"file".equals(command("GET", "/element/" + id + "/property/type", null).asText())) {
                command("POST", "/element/" + id + "/clear", JSON.createObjectNode());
            }
            return command("POST", "/element/" + id + "/value", JSON.createObjectNode().put("text", text));
        });
    }

    /** Sends keys to the focused element (e.g. "\uE007" for Enter). */
    void keys(String css, String keys) throws Exception {
        onElement(css, true, null, id -> command("POST", "/element/" + id + "/value",
                JSON.createObjectNode().put("text", keys)));
    }

    /** The rendered text of the first element matching, or "" when none does. */
    String text(String css) throws Exception {
        return onElement(css, false, "", id -> command("GET", "/element/" + id + "/text", null).asText());
    }

    /** Runs a script in the page; its return value as JSON. */
    JsonNode script(String js, Object... args) throws Exception {
        ObjectNode body = JSON.createObjectNode().put("script", js);
        ArrayNode a = body.putArray("args");
        for (Object arg : args) {
            a.addPOJO(arg);
        }
        return command("POST", "/execute/sync", body);
    }

    /** Runs an asynchronous script (its last argument is the callback); the value it passes back. */
    JsonNode asyncScript(String js, Object... args) throws Exception {
        ObjectNode body = JSON.createObjectNode().put("script", js);
        ArrayNode a = body.putArray("args");
        for (Object arg : args) {
            a.addPOJO(arg);
        }
        return command("POST", "/execute/async", body);
    }

    void acceptAlert() throws Exception {
        command("POST", "/alert/accept", JSON.createObjectNode());
    }

    /** The page's cookies as the browser holds them (HttpOnly ones included). */
    JsonNode cookies() throws Exception {
        return command("GET", "/cookie", null);
    }

    /** A PNG of the whole page (the window is made as tall as the page first). */
    void screenshot(Path file) throws Exception {
        JsonNode height = script("return Math.max(document.body.scrollHeight, 600);");
        command("POST", "/window/rect", JSON.createObjectNode().put("width", 1280)
                .put("height", Math.min(4000, height.asInt() + 140)));
        byte[] png = Base64.getDecoder().decode(command("GET", "/screenshot", null).asText());
        Files.createDirectories(file.getParent());
        Files.write(file, png);
    }

    private JsonNode command(String method, String path, JsonNode body) throws Exception {
        return send(http, method, base.resolve("/session/" + session + path), body);
    }

    private static JsonNode send(HttpClient http, String method, URI uri, JsonNode body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json; charset=utf-8");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode answer = JSON.readTree(r.body());
        if (r.statusCode() != 200) {
            JsonNode v = answer.path("value");
            throw new IllegalStateException("WebDriver " + method + " " + uri.getPath() + ": HTTP " + r.statusCode()
                    + " " + v.path("error").asText() + ": " + v.path("message").asText());
        }
        return answer.path("value");
    }

    @Override
    public void close() {
        try {
            send(http, "DELETE", base.resolve("/session/" + session), null);
        } catch (Exception e) {
            // chromedriver is ended below either way
        } finally {
            // Our own chromedriver's children (Chromium) first, should the session not have ended them.
            driver.descendants().forEach(ProcessHandle::destroy);
            driver.destroy();
            try {
                if (!driver.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    driver.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                driver.destroyForcibly();
            }
        }
    }
}

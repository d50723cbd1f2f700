package io.chimedialer.app.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;

/**
 * The HTTP server with TLS from PEM files: a self-signed certificate for 127.0.0.1 generated with openssl (the
 * tests are skipped, saying so, when openssl is not installed).
 */
class DialerHttpServerTlsTest {
    @TempDir
    Path dir;

    private Path cert;
    private Path key;
    private PrometheusMeterRegistry registry;
    private DialerHttpServer server;

    @BeforeEach
    void generateCertificate() throws Exception {
        cert = dir.resolve("cert.pem");
        key = dir.resolve("key.pem");
        List<String> command = List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                key.toString(), "-out", cert.toString(), "-days", "1", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1");
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("openssl is not installed, so no test certificate can be made: " + e.getMessage());
            return;
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("openssl finished").isTrue();
        assertThat(process.exitValue()).as(output).isZero();
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (registry != null) {
            registry.close();
        }
    }

    private DialerHttpServer start(DialerHttpServer.Tls tls) {
        WebhookEndpoint webhook = (timestamp, signature, body) ->
                Mono.just(new WebhookEndpoint.Reply(200, "{\"SchemaVersion\":\"1.0\",\"Actions\":[]}".getBytes(
                        StandardCharsets.UTF_8)));
        return new DialerHttpServer(new DialerHttpServer.Settings("127.0.0.1", 0, webhook, null, null, registry,
                () -> true, tls)).start();
    }

    private HttpClient trusting(Path certificate) throws Exception {
        Certificate c;
        try (InputStream in = Files.newInputStream(certificate)) {
            c = CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("dialer", c);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
    }

    @Test
    void start_withTls_servesHttpsWithTheCertificate() throws Exception {
        server = start(new DialerHttpServer.Tls(cert, key));

        HttpClient client = trusting(cert);
        HttpResponse<String> health = client.send(HttpRequest.newBuilder(
                        URI.create("https://127.0.0.1:" + server.port() + "/healthz")).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> webhook = client.send(HttpRequest.newBuilder(
                        URI.create("https://127.0.0.1:" + server.port() + "/v1/sma/invocations"))
                .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(server.scheme()).isEqualTo("https");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("UP");
        assertThat(health.sslSession()).isPresent();
        assertThat(webhook.statusCode()).isEqualTo(200);
        assertThat(webhook.body()).contains("SchemaVersion");
    }

    @Test
    void start_withTls_plainHttpRequestGetsNoHttpAnswer() throws Exception {
        server = start(new DialerHttpServer.Tls(cert, key));

        HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/healthz"))
                .timeout(Duration.ofSeconds(10)).build();

        assertThatThrownBy(() -> plain.send(request, HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(IOException.class);
    }

    @Test
    void start_withoutTls_plainHttp() throws Exception {
        server = start(null);

        HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.port() + "/healthz")).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());

        assertThat(server.scheme()).isEqualTo("http");
        assertThat(health.statusCode()).isEqualTo(200);
    }

    @Test
    void start_keyFileMissing_failsNamingTheFiles() {
        Path missing = dir.resolve("missing-key.pem");
        DialerHttpServer bad = new DialerHttpServer(new DialerHttpServer.Settings("127.0.0.1", 0,
                (t, s, b) -> Mono.empty(), null, null, registry, () -> true, new DialerHttpServer.Tls(cert, missing)));

        assertThatThrownBy(bad::start).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("server.tls").hasMessageContaining(missing.toString());
    }
}

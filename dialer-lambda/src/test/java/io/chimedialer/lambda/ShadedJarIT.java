package io.chimedialer.lambda;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

import static org.assertj.core.api.Assertions.assertThat;

/** Checks the jar that deploy/template.yaml uploads, as built by {@code mvn package}. */
class ShadedJarIT {

    static final Path JAR = Path.of("target", "dialer-lambda.jar");
    /**
     * The bound on the jar: 8 MB. It was 0.6 MB before the spill queue; the SDK's SQS client with the
     * URLConnection HTTP client and no other brings it to about 5.8 MB (Lambda's limit is 50 MB zipped).
     */
    static final long EIGHT_MB = 8L * 1024 * 1024;

    private static List<String> entries;

    @BeforeAll
    static void listEntries() throws IOException {
        assertThat(JAR).as("run after mvn package").isRegularFile();
        try (JarFile jar = new JarFile(JAR.toFile())) {
            entries = jar.stream().map(ZipEntry::getName).toList();
        }
    }

    @Test
    void shadedJar_isUnderEightMegabytes() throws IOException {
        assertThat(Files.size(JAR)).isPositive().isLessThan(EIGHT_MB);
    }

    @Test
    void shadedJar_holdsTheHandlerAndTheSqsClientButNoOtherSdkHttpClientOrDatabind() {
        assertThat(entries).contains(
                "io/chimedialer/lambda/SmaBridgeHandler.class",
                "io/chimedialer/lambda/LocalInvoker.class",
                "com/amazonaws/services/lambda/runtime/RequestStreamHandler.class",
                "com/fasterxml/jackson/core/JsonParser.class",
                "software/amazon/awssdk/services/sqs/SqsClient.class",
                "software/amazon/awssdk/http/urlconnection/UrlConnectionHttpClient.class");
        assertThat(entries).noneMatch(e -> e.startsWith("software/amazon/awssdk/http/apache/"))
                .noneMatch(e -> e.startsWith("software/amazon/awssdk/http/nio/"))
                .noneMatch(e -> e.startsWith("software/amazon/awssdk/services/chimesdkvoice/"))
                .noneMatch(e -> e.startsWith("org/apache/http/"))
                .noneMatch(e -> e.startsWith("com/fasterxml/jackson/databind/"))
                .noneMatch(e -> e.startsWith("reactor/") || e.startsWith("io/netty/"))
                .noneMatch(e -> e.endsWith("Test.class") || e.endsWith("IT.class"));
    }

    @Test
    void shadedJar_aloneOnTheClassPath_forwardsAnInvocation() throws Exception {
        try (StubDialer dialer = StubDialer.answering(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER));
             URLClassLoader isolated = new URLClassLoader(new URL[] {JAR.toUri().toURL()},
                     ClassLoader.getPlatformClassLoader())) {
            Class<?> configType = isolated.loadClass("io.chimedialer.lambda.BridgeConfig");
            Object config = configType.getConstructor(URI.class, String.class, Duration.class, String.class, List.class)
                    .newInstance(dialer.url(), "secret", Duration.ofSeconds(3), "Bye.", List.of());
            Class<?> handlerType = isolated.loadClass("io.chimedialer.lambda.SmaBridgeHandler");
            Object handler = handlerType.getConstructor(configType).newInstance(config);
            Class<?> contextType = isolated.loadClass("com.amazonaws.services.lambda.runtime.Context");
            byte[] event = Events.event("CALL_ANSWERED");
            ByteArrayOutputStream out = new ByteArrayOutputStream();

            handlerType.getMethod("handleRequest", InputStream.class, OutputStream.class, contextType)
                    .invoke(handler, new ByteArrayInputStream(event), out, null);

            assertThat(handlerType.getClassLoader()).isSameAs(isolated);
            assertThat(new String(out.toByteArray(), StandardCharsets.UTF_8)).isEqualTo(StubDialer.DEFAULT_ANSWER);
            assertThat(dialer.received()).singleElement().satisfies(r -> assertThat(r.body()).isEqualTo(event));
        }
    }
}

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
    static final long FIVE_MB = 5L * 1024 * 1024;

    private static List<String> entries;

    @BeforeAll
    static void listEntries() throws IOException {
        assertThat(JAR).as("run after mvn package").isRegularFile();
        try (JarFile jar = new JarFile(JAR.toFile())) {
            entries = jar.stream().map(ZipEntry::getName).toList();
        }
    }

    @Test
    void shadedJar_isUnderFiveMegabytes() throws IOException {
        assertThat(Files.size(JAR)).isPositive().isLessThan(FIVE_MB);
    }

    @Test
    void shadedJar_holdsTheHandlerAndItsDependenciesButNoSdkOrDatabind() {
        assertThat(entries).contains(
                "io/chimedialer/lambda/SmaBridgeHandler.class",
                "io/chimedialer/lambda/LocalInvoker.class",
                "com/amazonaws/services/lambda/runtime/RequestStreamHandler.class",
                "com/fasterxml/jackson/core/JsonParser.class");
        assertThat(entries).noneMatch(e -> e.startsWith("software/amazon/awssdk/"))
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

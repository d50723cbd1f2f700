package io.chimedialer.app.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Child JVMs of the benchmark: same Java, same class path as this process. */
final class Children {
    private static final Pattern URL = Pattern.compile("listening on (http://\\S+)");

    private Children() {
    }

    /** The java launcher of this JVM. */
    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** This JVM's class path (a manifest-only jar under surefire/failsafe works as well). */
    static String classPath() {
        return System.getProperty("java.class.path");
    }

    /** A started child whose merged output is read line by line on a daemon thread. */
    static final class Child implements AutoCloseable {
        final Process process;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final List<String> all = new ArrayList<>();

        private Child(Process process) {
            this.process = process;
        }

        static Child start(List<String> command) throws IOException {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            Child child = new Child(pb.start());
            Thread reader = new Thread(child::drain, "bench-child-output");
            reader.setDaemon(true);
            reader.start();
            return child;
        }

        private void drain() {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                    synchronized (all) {
                        if (all.size() < 10_000) {
                            all.add(line);
                        }
                    }
                }
            } catch (IOException e) {
                // the child went away; its exit code tells the rest
            }
        }

        /** Waits (bounded) for the emulator's "listening on URL" line. */
        URI awaitUrl(long timeoutMillis) throws InterruptedException {
            long deadline = System.currentTimeMillis() + timeoutMillis;
            while (System.currentTimeMillis() < deadline) {
                String line = lines.poll(100, TimeUnit.MILLISECONDS);
                if (line != null) {
                    Matcher m = URL.matcher(line);
                    if (m.find()) {
                        return URI.create(m.group(1));
                    }
                }
                if (!process.isAlive() && lines.isEmpty()) {
                    break;
                }
            }
            throw new IllegalStateException("child did not print its URL; output: " + output());
        }

        /** Waits (bounded) for the child to exit and returns its exit code. */
        int await(long timeoutMillis) throws InterruptedException {
            if (!process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("child did not finish within " + timeoutMillis + " ms; output: "
                        + output());
            }
            return process.exitValue();
        }

        String output() {
            synchronized (all) {
                return String.join("\n", all);
            }
        }

        @Override
        public void close() {
            if (process.isAlive()) {
                process.destroy();
                try {
                    if (!process.waitFor(10, TimeUnit.SECONDS)) {
                        process.destroyForcibly();
                    }
                } catch (InterruptedException e) {
                    process.destroyForcibly();
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}

package io.chimedialer.lambda;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LocalInvokerTest {

    @Test
    void invoke_echoHandler_passesTheRequestAndReturnsExactlyWhatWasWritten() {
        List<Context> contexts = new ArrayList<>();
        RequestStreamHandler echo = (in, out, ctx) -> {
            contexts.add(ctx);
            out.write("<".getBytes(StandardCharsets.UTF_8));
            out.write(in.readAllBytes());
            out.write(">".getBytes(StandardCharsets.UTF_8));
        };
        LocalInvoker invoker = new LocalInvoker(echo, Duration.ofSeconds(6), new CapturingLogger());

        byte[] first = invoker.invoke("{\"a\":\"é\"}".getBytes(StandardCharsets.UTF_8));
        invoker.invoke(new byte[0]);

        assertThat(new String(first, StandardCharsets.UTF_8)).isEqualTo("<{\"a\":\"é\"}>");
        assertThat(contexts).hasSize(2);
        assertThat(contexts.get(0).getAwsRequestId()).isNotEqualTo(contexts.get(1).getAwsRequestId());
        assertThat(contexts.get(0).getRemainingTimeInMillis()).isBetween(1, 6000);
        assertThat(contexts.get(0).getFunctionName()).isEqualTo(LocalContext.FUNCTION_NAME);
    }

    @Test
    void invoke_handlerThrowsIOException_surfacesAsUncheckedIOException() {
        RequestStreamHandler failing = (in, out, ctx) -> {
            throw new IOException("boom");
        };

        assertThatThrownBy(() -> new LocalInvoker(failing).invoke(new byte[0]))
                .isInstanceOf(UncheckedIOException.class).hasRootCauseMessage("boom");
    }

    @Test
    void invoke_handlerLogs_reachTheGivenLogger() {
        CapturingLogger logger = new CapturingLogger();
        RequestStreamHandler logging = (in, out, ctx) -> ctx.getLogger().log("hello from " + ctx.getFunctionName());

        new LocalInvoker(logging, Duration.ofSeconds(1), logger).invoke(new byte[0]);

        assertThat(logger.lines()).containsExactly("hello from dialer-lambda-local");
    }

    @Test
    void forDialer_bridgeInProcess_returnsTheDialersAnswer() throws IOException {
        try (StubDialer dialer = StubDialer.answering(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER))) {
            LocalInvoker invoker = LocalInvoker.forDialer(dialer.url(), "secret");
            byte[] event = Events.event("CALL_ANSWERED");

            byte[] answer = invoker.invoke(event);

            assertThat(new String(answer, StandardCharsets.UTF_8)).isEqualTo(StubDialer.DEFAULT_ANSWER);
            assertThat(dialer.received()).singleElement().satisfies(r -> assertThat(r.body()).isEqualTo(event));
            assertThat(invoker.handler()).isInstanceOf(SmaBridgeHandler.class);
        }
    }

    @Test
    void localContext_deadline_countsDownAndNeverGoesNegative() {
        AtomicLong nanos = new AtomicLong(1_000_000_000L);
        LocalContext context = new LocalContext("r", Duration.ofMillis(50), new CapturingLogger(), nanos::get);

        assertThat(context.getRemainingTimeInMillis()).isEqualTo(50);
        nanos.addAndGet(Duration.ofMillis(20).toNanos());
        assertThat(context.getRemainingTimeInMillis()).isEqualTo(30);
        nanos.addAndGet(Duration.ofMillis(60).toNanos());
        assertThat(context.getRemainingTimeInMillis()).isZero();
        assertThat(context.getIdentity()).isNull();
        assertThat(context.getClientContext()).isNull();
        assertThat(context.getInvokedFunctionArn()).endsWith(":function:" + LocalContext.FUNCTION_NAME);
    }

    @Test
    void constructors_nonPositiveTimeout_areRejected() {
        RequestStreamHandler noop = (in, out, ctx) -> { };
        assertThatThrownBy(() -> new LocalInvoker(noop, Duration.ZERO, new CapturingLogger()))
                .hasMessageStartingWith("functionTimeout:");
        assertThatThrownBy(() -> new LocalContext("r", Duration.ofMillis(-1), new CapturingLogger()))
                .hasMessageStartingWith("timeout:");
    }
}

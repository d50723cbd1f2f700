package io.chimedialer.app.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.core.calls.CallRegistry;
import io.chimedialer.core.calls.EventBus;
import io.chimedialer.core.calls.WebhookHandler;
import io.chimedialer.core.calls.WebhookReply;
import io.chimedialer.core.webhook.WebhookSignature;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Numbers planted in invocation fields the dialer logs verbatim (Chime's ErrorMessage and ErrorType, the
 * TransactionId) reach the log masked: a real {@link WebhookHandler} logs, the real logback.xml encodes.
 */
class WebhookLogMaskingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET = "log-masking-test-secret-0123456789";
    /** Every number planted below, digits only: none may appear whole in the log. */
    private static final List<String> PLANTED = List.of("17666904195", "12065550147", "2065550188", "14155550123",
            "442079460018");

    @Test
    void invalidLambdaResponse_numbersInErrorMessageTypeAndTransactionId_loggedMasked() throws Exception {
        Clock clock = Clock.systemUTC();
        WebhookSignature signature = new WebhookSignature(SECRET, clock);
        WebhookHandler handler = WebhookHandler.builder(new CallRegistry(new EventBus(), clock), signature).build();
        List<ObjectNode> bodies = List.of(
                invalidResponse("+17666904195", "InvalidLambdaResponse", "Invalid caller ID +12065550147", false),
                invalidResponse("tx-14155550123", "InvalidResponse", "call to (206) 555-0188 refused", true),
                invalidResponse("7d6f2f0e-59c4-4b55-9a4d-1f4e1b2c3d4e", "+44 20 7946 0018",
                        "rejected at 2026-12-06T15:08:10 after 1765033690123 ms", false));

        String log;
        try (RealLogbackCapture capture = RealLogbackCapture.of(WebhookHandler.class.getName())) {
            for (ObjectNode body : bodies) {
                byte[] bytes = JSON.writeValueAsBytes(body);
                long now = signature.nowSeconds();
                WebhookReply reply = handler.handle(Long.toString(now), signature.sign(now, bytes), bytes)
                        .block(Duration.ofSeconds(10));
                assertThat(reply).isNotNull();
                assertThat(reply.status()).isEqualTo(200);
            }
            log = capture.text();
        }

        assertThat(log.lines().filter(l -> l.contains("WARN  WebhookHandler - Chime rejected a response")))
                .as(log).hasSize(3);
        for (String number : PLANTED) {
            assertThat(digitsOnly(log)).as("%s in %s", number, log).doesNotContain(number);
        }
        assertThat(log)
                .contains("Chime rejected a response of call +*******4195: InvalidLambdaResponse Invalid caller ID"
                        + " +*******0147")
                .contains("of call tx-*******0123: InvalidResponse call to (***) ***-0188 refused")
                // What is not a number is kept: a UUID, a date-time, epoch milliseconds.
                .contains("of call 7d6f2f0e-59c4-4b55-9a4d-1f4e1b2c3d4e: +** ** **** 0018 rejected at"
                        + " 2026-12-06T15:08:10 after 1765033690123 ms");
    }

    @Test
    void realEncoder_messageArgumentsAndExceptionChain_numbersMaskedLayoutKept() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        LoggingEvent event = new LoggingEvent(WebhookLogMaskingTest.class.getName(),
                context.getLogger("io.chimedialer.Example"), Level.ERROR, "dialing {} for {} failed",
                new IllegalStateException("no route to +17666904195",
                        new IllegalArgumentException("number 2065550188 is invalid")),
                new Object[] {"+12065550147", "attempt 123e4567-e89b-12d3-a456-426614174000"});

        String line = new String(RealLogbackCapture.realEncoder().encode(event), StandardCharsets.UTF_8);

        assertThat(line).matches("(?s)\\d{2}:\\d{2}:\\d{2}\\.\\d{3} ERROR Example - dialing \\+\\*{7}0147 for attempt"
                + " 123e4567-e89b-12d3-a456-426614174000 failed\\R.*");
        assertThat(line).contains("java.lang.IllegalStateException: no route to +*******4195")
                .contains("Caused by: java.lang.IllegalArgumentException: number ******0188 is invalid")
                .contains("at io.chimedialer.app.logging.WebhookLogMaskingTest");
        assertThat(digitsOnly(line)).doesNotContain("17666904195", "2065550188", "12065550147");
    }

    @Test
    void realEncoder_eventWithoutException_endsWithTheMessageLine() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        ILoggingEvent event = new LoggingEvent(WebhookLogMaskingTest.class.getName(),
                context.getLogger("io.chimedialer.Example"), Level.INFO, "campaign {} progress: {} of {} dialed",
                null, new Object[] {"demo", 181, 200});

        String line = new String(RealLogbackCapture.realEncoder().encode(event), StandardCharsets.UTF_8);

        assertThat(line).matches("\\d{2}:\\d{2}:\\d{2}\\.\\d{3} INFO  Example - campaign demo progress: 181 of 200"
                + " dialed\\R");
    }

    private static ObjectNode invalidResponse(String transactionId, String errorType, String errorMessage,
                                              boolean inActionData) {
        ObjectNode root = JSON.createObjectNode();
        root.put("SchemaVersion", "1.0");
        root.put("Sequence", 4);
        root.put("InvocationEventType", "INVALID_LAMBDA_RESPONSE");
        ObjectNode details = root.putObject("CallDetails");
        details.put("TransactionId", transactionId);
        details.put("AwsRegion", "us-east-1");
        details.putArray("Participants").addObject().put("CallId", "leg-a").put("ParticipantTag", "LEG-A")
                .put("To", "+12065550100").put("From", "+12065550199").put("Direction", "Outbound");
        ObjectNode error = inActionData ? root.putObject("ActionData") : root;
        error.put("ErrorType", errorType);
        error.put("ErrorMessage", errorMessage);
        return root;
    }

    /** The text without the separators a number may be written with, so that a number split by them is found. */
    private static String digitsOnly(String text) {
        return text.replaceAll("[ ()\\-.]", "");
    }
}

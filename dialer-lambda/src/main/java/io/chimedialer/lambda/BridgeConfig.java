package io.chimedialer.lambda;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * What the bridge needs to know: where the dialer's webhook is, the shared signing secret, how long
 * to wait for an answer, what to say when it cannot get one, and which per-call node URLs it may
 * follow. Immutable and validated at construction; {@link #toString()} never prints the secret.
 *
 * @param webhookUrl         the default webhook ({@code POST /v1/sma/invocations}); a URL whose path is
 *                           empty or {@code /} gets {@value #INVOCATIONS_PATH} appended
 * @param secret             the HMAC-SHA256 key shared with the dialer (DESIGN.md §7a); not blank
 * @param timeout            the whole budget for one invocation, retries and the fallback to the default
 *                           URL included; positive, at most {@link #MAX_TIMEOUT}; default
 *                           {@link #DEFAULT_TIMEOUT}, well under Chime's 5 s
 * @param fallbackText       what the fallback {@code Speak} says; 1 to 1,000 characters
 * @param allowedUrlPrefixes the prefixes a per-call {@code dialerUrl} must start with (at a path, port,
 *                           query or end boundary); empty means any http(s) URL is followed
 * @param spillQueueUrl      the Amazon SQS queue an invocation the dialer did not take goes to (its URL, e.g.
 *                           {@code https://sqs.us-east-1.amazonaws.com/123456789012/chime-dialer-spill}), or
 *                           {@code null} for none
 * @param spillTimeout       with a spill queue, the part of {@code timeout} kept back for sending to it (the
 *                           dialer gets the rest); less than {@code timeout}; default {@link #DEFAULT_SPILL_TIMEOUT}
 */
public record BridgeConfig(URI webhookUrl, String secret, Duration timeout, String fallbackText,
                           List<String> allowedUrlPrefixes, URI spillQueueUrl, Duration spillTimeout) {

    /** Environment variable: the default webhook URL (required). */
    public static final String ENV_WEBHOOK_URL = "DIALER_WEBHOOK_URL";
    /** Environment variable: the signing secret (required). */
    public static final String ENV_WEBHOOK_SECRET = "DIALER_WEBHOOK_SECRET";
    /** Environment variable: the invocation budget in milliseconds (optional, default 2000). */
    public static final String ENV_TIMEOUT_MS = "DIALER_TIMEOUT_MS";
    /** Environment variable: the fallback Speak text (optional). */
    public static final String ENV_FALLBACK_TEXT = "DIALER_FALLBACK_TEXT";
    /** Environment variable: comma-separated allowed prefixes for per-call dialer URLs (optional). */
    public static final String ENV_ALLOWED_URL_PREFIXES = "DIALER_ALLOWED_URL_PREFIXES";

    /** Environment variable: the URL of the SQS queue undelivered invocations go to (optional). */
    public static final String ENV_SPILL_QUEUE_URL = "DIALER_SPILL_QUEUE_URL";
    /** Environment variable: milliseconds of the budget kept for the spill queue (optional, default 400). */
    public static final String ENV_SPILL_TIMEOUT_MS = "DIALER_SPILL_TIMEOUT_MS";

    /**
     * Default part of the budget kept back for SendMessage when a spill queue is set: 400 ms, many times
     * SQS's usual latency within a Region, so the whole invocation, spill included, stays within {@link #timeout}.
     */
    public static final Duration DEFAULT_SPILL_TIMEOUT = Duration.ofMillis(400);

    /** The dialer's webhook path, appended to a URL given without a path. */
    public static final String INVOCATIONS_PATH = "/v1/sma/invocations";
    /**
     * Default budget, and the most deploy/template.yaml accepts: 2 s. Chime retries an invocation it has
     * no answer to after 5 s; 2 s leaves the rest for a cold start or snapshot restore and the answer's
     * way back, so a retry never arrives while this invocation is still waiting for the dialer.
     */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(2000);
    /**
     * Upper bound this class accepts: 20 s, after which Chime gives up on an invocation. Above
     * {@link #DEFAULT_TIMEOUT} only for the emulator on a loaded machine, where no retry comes; a
     * deployed bridge keeps to 2 s (the template's limit).
     */
    public static final Duration MAX_TIMEOUT = Duration.ofSeconds(20);
    /** Default text of the fallback Speak action. */
    public static final String DEFAULT_FALLBACK_TEXT =
            "We are sorry, we cannot continue this call right now. Goodbye.";
    /** Chime's limit on a Speak action's text. */
    public static final int MAX_FALLBACK_TEXT = 1000;

    /** Validates every component; messages name the component. */
    public BridgeConfig {
        Objects.requireNonNull(webhookUrl, "webhookUrl");
        Objects.requireNonNull(secret, "secret");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(fallbackText, "fallbackText");
        Objects.requireNonNull(allowedUrlPrefixes, "allowedUrlPrefixes");
        if (!isHttp(webhookUrl)) {
            throw new IllegalArgumentException("webhookUrl: must be an absolute http(s) URL with a host");
        }
        webhookUrl = withInvocationsPath(webhookUrl);
        if (secret.isBlank()) {
            throw new IllegalArgumentException("secret: must not be blank");
        }
        if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(MAX_TIMEOUT) > 0) {
            throw new IllegalArgumentException("timeout: must be positive and at most " + MAX_TIMEOUT.toMillis()
                    + " ms, was " + timeout.toMillis() + " ms");
        }
        if (fallbackText.isBlank() || fallbackText.length() > MAX_FALLBACK_TEXT) {
            throw new IllegalArgumentException("fallbackText: must have 1 to " + MAX_FALLBACK_TEXT
                    + " characters");
        }
        allowedUrlPrefixes = List.copyOf(allowedUrlPrefixes);
        for (String prefix : allowedUrlPrefixes) {
            if (!isHttp(parse(prefix))) {
                throw new IllegalArgumentException("allowedUrlPrefixes: not an http(s) URL prefix: " + prefix);
            }
        }
        if (spillTimeout == null) {
            spillTimeout = DEFAULT_SPILL_TIMEOUT;
        }
        if (spillQueueUrl != null && (!isHttp(spillQueueUrl) || spillQueueUrl.getRawPath() == null
                || spillQueueUrl.getRawPath().length() < 2)) {
            throw new IllegalArgumentException("spillQueueUrl: must be an SQS queue URL (http(s)://host/account/name)");
        }
        if (spillQueueUrl != null
                && (spillTimeout.isNegative() || spillTimeout.isZero() || spillTimeout.compareTo(timeout) >= 0)) {
            throw new IllegalArgumentException("spillTimeout: must be positive and less than the timeout ("
                    + timeout.toMillis() + " ms), was " + spillTimeout.toMillis() + " ms");
        }
    }

    /** Without a spill queue. */
    public BridgeConfig(URI webhookUrl, String secret, Duration timeout, String fallbackText,
                        List<String> allowedUrlPrefixes) {
        this(webhookUrl, secret, timeout, fallbackText, allowedUrlPrefixes, null, DEFAULT_SPILL_TIMEOUT);
    }

    /** Whether invocations the dialer does not take are sent to a spill queue. */
    public boolean spills() {
        return spillQueueUrl != null;
    }

    /** How long the bridge waits for the dialer: the whole budget, less the spill's part when it spills. */
    public Duration forwardTimeout() {
        return spills() ? timeout.minus(spillTimeout) : timeout;
    }

    /**
     * A configuration with the defaults: a 2 s budget, the default text, any http(s) node URL followed.
     *
     * @param webhookUrl the default webhook URL
     * @param secret     the signing secret
     * @return the configuration
     */
    public static BridgeConfig of(URI webhookUrl, String secret) {
        return new BridgeConfig(webhookUrl, secret, DEFAULT_TIMEOUT, DEFAULT_FALLBACK_TEXT, List.of());
    }

    /**
     * Reads the {@code DIALER_*} variables.
     *
     * @param env the environment, usually {@link System#getenv()}
     * @return the configuration
     * @throws IllegalArgumentException naming every missing or invalid variable at once
     */
    public static BridgeConfig fromEnvironment(Map<String, String> env) {
        List<String> errors = new ArrayList<>();
        URI url = null;
        String rawUrl = trimmed(env.get(ENV_WEBHOOK_URL));
        if (rawUrl == null) {
            errors.add(ENV_WEBHOOK_URL + ": required");
        } else {
            url = parse(rawUrl);
            if (!isHttp(url)) {
                errors.add(ENV_WEBHOOK_URL + ": not an absolute http(s) URL with a host");
            }
        }
        String secret = env.get(ENV_WEBHOOK_SECRET);
        if (secret == null || secret.isBlank()) {
            errors.add(ENV_WEBHOOK_SECRET + ": required");
        }
        Duration timeout = DEFAULT_TIMEOUT;
        String rawTimeout = trimmed(env.get(ENV_TIMEOUT_MS));
        if (rawTimeout != null) {
            try {
                long ms = Long.parseLong(rawTimeout);
                if (ms <= 0 || ms > MAX_TIMEOUT.toMillis()) {
                    errors.add(ENV_TIMEOUT_MS + ": must be 1 to " + MAX_TIMEOUT.toMillis() + ", was " + ms);
                } else {
                    timeout = Duration.ofMillis(ms);
                }
            } catch (NumberFormatException e) {
                errors.add(ENV_TIMEOUT_MS + ": not a number of milliseconds: " + rawTimeout);
            }
        }
        String text = env.get(ENV_FALLBACK_TEXT);
        if (text == null || text.isBlank()) {
            text = DEFAULT_FALLBACK_TEXT;
        } else if (text.length() > MAX_FALLBACK_TEXT) {
            errors.add(ENV_FALLBACK_TEXT + ": longer than " + MAX_FALLBACK_TEXT + " characters");
        }
        List<String> prefixes = new ArrayList<>();
        String rawPrefixes = env.get(ENV_ALLOWED_URL_PREFIXES);
        if (rawPrefixes != null) {
            for (String part : rawPrefixes.split(",")) {
                String prefix = part.trim();
                if (prefix.isEmpty()) {
                    continue;
                }
                if (isHttp(parse(prefix))) {
                    prefixes.add(prefix);
                } else {
                    errors.add(ENV_ALLOWED_URL_PREFIXES + ": not an http(s) URL prefix: " + prefix);
                }
            }
        }
        URI spillUrl = null;
        String rawSpill = trimmed(env.get(ENV_SPILL_QUEUE_URL));
        if (rawSpill != null) {
            spillUrl = parse(rawSpill);
            if (!isHttp(spillUrl) || spillUrl.getRawPath() == null || spillUrl.getRawPath().length() < 2) {
                errors.add(ENV_SPILL_QUEUE_URL + ": not an SQS queue URL (http(s)://host/account/name)");
                spillUrl = null;
            }
        }
        Duration spillTimeout = DEFAULT_SPILL_TIMEOUT;
        String rawSpillTimeout = trimmed(env.get(ENV_SPILL_TIMEOUT_MS));
        if (rawSpillTimeout != null) {
            try {
                long ms = Long.parseLong(rawSpillTimeout);
                if (ms <= 0 || ms >= timeout.toMillis()) {
                    errors.add(ENV_SPILL_TIMEOUT_MS + ": must be 1 to " + (timeout.toMillis() - 1)
                            + " (less than the budget), was " + ms);
                } else {
                    spillTimeout = Duration.ofMillis(ms);
                }
            } catch (NumberFormatException e) {
                errors.add(ENV_SPILL_TIMEOUT_MS + ": not a number of milliseconds: " + rawSpillTimeout);
            }
        } else if (spillTimeout.compareTo(timeout) >= 0) {
            spillTimeout = timeout.dividedBy(2);
        }
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException("invalid bridge configuration: " + String.join("; ", errors));
        }
        return new BridgeConfig(url, secret, timeout, text, prefixes, spillUrl, spillTimeout);
    }

    /** A copy with another budget (a spill part not below it is halved to fit). */
    public BridgeConfig withTimeout(Duration newTimeout) {
        Duration spill = spillTimeout.compareTo(newTimeout) < 0 ? spillTimeout : newTimeout.dividedBy(2);
        return new BridgeConfig(webhookUrl, secret, newTimeout, fallbackText, allowedUrlPrefixes, spillQueueUrl,
                spill);
    }

    /** A copy with another fallback text. */
    public BridgeConfig withFallbackText(String newText) {
        return new BridgeConfig(webhookUrl, secret, timeout, newText, allowedUrlPrefixes, spillQueueUrl,
                spillTimeout);
    }

    /** A copy with other allowed prefixes for per-call node URLs (empty: any http(s) URL). */
    public BridgeConfig withAllowedUrlPrefixes(List<String> prefixes) {
        return new BridgeConfig(webhookUrl, secret, timeout, fallbackText, prefixes, spillQueueUrl, spillTimeout);
    }

    /** A copy that sends what the dialer does not take to this SQS queue, keeping {@code part} of the budget for it. */
    public BridgeConfig withSpillQueue(URI queueUrl, Duration part) {
        return new BridgeConfig(webhookUrl, secret, timeout, fallbackText, allowedUrlPrefixes, queueUrl, part);
    }

    /**
     * Whether a per-call node URL taken from an event may be followed: an absolute http(s) URL with a
     * host and no user info, starting with one of {@link #allowedUrlPrefixes()} (compared ignoring case,
     * and only at a boundary, so {@code https://a.example} does not admit {@code https://a.example.evil}),
     * or any such URL when no prefixes are configured.
     *
     * @param candidate the URL as found in the event
     * @return the URL to post to ({@value #INVOCATIONS_PATH} appended when it has no path), or
     *         {@code null} when it must be ignored
     */
    public URI allowedNodeUrl(String candidate) {
        if (candidate == null) {
            return null;
        }
        String text = candidate.trim();
        URI uri = parse(text);
        if (!isHttp(uri) || uri.getRawUserInfo() != null) {
            return null;
        }
        if (allowedUrlPrefixes.isEmpty()) {
            return withInvocationsPath(uri);
        }
        for (String prefix : allowedUrlPrefixes) {
            if (startsAtBoundary(text, prefix)) {
                return withInvocationsPath(uri);
            }
        }
        return null;
    }

    /** Masks the secret. */
    @Override
    public String toString() {
        return "BridgeConfig[webhookUrl=" + webhookUrl + ", secret=****, timeout=" + timeout.toMillis()
                + " ms, fallbackText=" + fallbackText + ", allowedUrlPrefixes=" + allowedUrlPrefixes
                + ", spillQueueUrl=" + spillQueueUrl + ", spillTimeout=" + spillTimeout.toMillis() + " ms]";
    }

    private static boolean startsAtBoundary(String url, String prefix) {
        if (!url.regionMatches(true, 0, prefix, 0, prefix.length())) {
            return false;
        }
        if (url.length() == prefix.length() || prefix.endsWith("/")) {
            return true;
        }
        char next = url.charAt(prefix.length());
        return next == '/' || next == '?' || next == '#' || next == ':';
    }

    private static String trimmed(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        return value.trim();
    }

    private static URI parse(String text) {
        try {
            return new URI(text);
        } catch (java.net.URISyntaxException e) {
            return null;
        }
    }

    private static boolean isHttp(URI uri) {
        if (uri == null || uri.getScheme() == null || uri.getHost() == null || uri.isOpaque()) {
            return false;
        }
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        return scheme.equals("http") || scheme.equals("https");
    }

    private static URI withInvocationsPath(URI uri) {
        String path = uri.getRawPath();
        if (path == null || path.isEmpty() || path.equals("/")) {
            return URI.create(uri.getScheme() + "://" + uri.getRawAuthority() + INVOCATIONS_PATH
                    + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()));
        }
        return uri;
    }
}

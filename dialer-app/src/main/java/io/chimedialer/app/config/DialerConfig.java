package io.chimedialer.app.config;

import io.chimedialer.core.campaign.CampaignConfig;
import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.core.cluster.ClusterSettings;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The whole, validated configuration of a {@code dialer}: what {@link ConfigLoader#load} returns.
 * Immutable; maps keep the order of the file. Its {@code toString()} never shows a secret.
 *
 * @param source       the configuration file it was read from
 * @param server       the HTTP server (webhook, control API, metrics)
 * @param ledger       where attempts and outcomes are recorded
 * @param regions      Region name -> Region, at least one
 * @param campaignsDir the directory whose {@code *.yaml} files were read as campaigns, or null when there was none
 * @param campaigns    campaign name -> campaign, from {@code campaigns:} and from {@code campaignsDir}
 * @param cluster      scale-out over the ledger's PostgreSQL (default: off)
 * @param pacing       how Regions are judged
 * @param notifications where completion notices go ({@code notifications:}), or null when none is configured
 */
public record DialerConfig(Path source, Server server, Ledger ledger, Map<String, RegionConfig> regions,
                           Path campaignsDir, Map<String, CampaignConfig> campaigns, Cluster cluster, Pacing pacing,
                           Notifications notifications) {
    public DialerConfig {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(ledger, "ledger");
        cluster = cluster == null ? Cluster.disabled() : cluster;
        pacing = pacing == null ? Pacing.defaults() : pacing;
        regions = Collections.unmodifiableMap(new LinkedHashMap<>(regions));
        campaigns = Collections.unmodifiableMap(new LinkedHashMap<>(campaigns));
    }

    /** Without completion notices. */
    public DialerConfig(Path source, Server server, Ledger ledger, Map<String, RegionConfig> regions,
                        Path campaignsDir, Map<String, CampaignConfig> campaigns, Cluster cluster, Pacing pacing) {
        this(source, server, ledger, regions, campaignsDir, campaigns, cluster, pacing, null);
    }

    /** Without clustering. */
    public DialerConfig(Path source, Server server, Ledger ledger, Map<String, RegionConfig> regions,
                        Path campaignsDir, Map<String, CampaignConfig> campaigns) {
        this(source, server, ledger, regions, campaignsDir, campaigns, null, null, null);
    }

    /** With the default pacing. */
    public DialerConfig(Path source, Server server, Ledger ledger, Map<String, RegionConfig> regions,
                        Path campaignsDir, Map<String, CampaignConfig> campaigns, Cluster cluster) {
        this(source, server, ledger, regions, campaignsDir, campaigns, cluster, null, null);
    }

    /**
     * {@code pacing:}: how the dialer judges its Regions.
     *
     * @param regionFaultAfter unexplained 4xx answers to Create in a row that fail a Region (default 5): an account or
     *                         configuration error is then assumed, and no contact is charged with it
     */
    public record Pacing(int regionFaultAfter, java.time.Duration webhookLagThreshold) {
        /** Default {@code region-fault-after}. */
        public static final int DEFAULT_REGION_FAULT_AFTER = io.chimedialer.core.pacing.RegionHealth.DEFAULT_UNEXPLAINED_LIMIT;

        public Pacing {
            if (regionFaultAfter < 1) {
                throw new IllegalArgumentException("region-fault-after must be >= 1, was " + regionFaultAfter);
            }
            java.util.Objects.requireNonNull(webhookLagThreshold, "webhookLagThreshold");
        }

        /** With the default {@code webhook-lag-threshold}. */
        public Pacing(int regionFaultAfter) {
            this(regionFaultAfter, io.chimedialer.core.pacing.PacingSettings.DEFAULT_WEBHOOK_LAG_THRESHOLD);
        }

        /** The defaults. */
        public static Pacing defaults() {
            return new Pacing(DEFAULT_REGION_FAULT_AFTER);
        }

        /** The core's pacing settings with these. */
        public io.chimedialer.core.pacing.PacingSettings settings() {
            return io.chimedialer.core.pacing.PacingSettings.ofDefaults().withRegionFaultAfter(regionFaultAfter)
                    .withWebhookLagThreshold(webhookLagThreshold);
        }
    }

    /**
     * {@code notifications:}: the URL a signed JSON summary is POSTed to when a campaign completes, is cancelled or
     * pauses on an error (docs/operations.md, "Completion notices"). Its {@code toString()} shows the URL without
     * its query string and never the secret.
     *
     * @param url            where notices are POSTed, {@code http} or {@code https}
     * @param secret         the HMAC-SHA256 key of the {@code X-Dialer-Signature} header
     * @param maxAttempts    attempts per notice before it is given up (default {@value #DEFAULT_MAX_ATTEMPTS})
     * @param initialBackoff the wait after the first failed attempt, doubled after each further one (default 1s)
     * @param maxBackoff     the longest wait between two attempts (default 5m)
     * @param timeout        how long one attempt may take, connecting included (default 10s)
     */
    public record Notifications(URI url, Secret secret, int maxAttempts, Duration initialBackoff, Duration maxBackoff,
                                Duration timeout) {
        /** Default {@code max-attempts}. */
        public static final int DEFAULT_MAX_ATTEMPTS = 8;
        /** Default {@code initial-backoff}. */
        public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofSeconds(1);
        /** Default {@code max-backoff}. */
        public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofMinutes(5);
        /** Default {@code timeout}. */
        public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

        public Notifications {
            Objects.requireNonNull(url, "url");
            Objects.requireNonNull(secret, "secret");
            String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(java.util.Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || url.getHost() == null) {
                throw new IllegalArgumentException("url must be an http:// or https:// URL, was " + redacted(url));
            }
            initialBackoff = initialBackoff == null ? DEFAULT_INITIAL_BACKOFF : initialBackoff;
            maxBackoff = maxBackoff == null ? DEFAULT_MAX_BACKOFF : maxBackoff;
            timeout = timeout == null ? DEFAULT_TIMEOUT : timeout;
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("max-attempts must be >= 1, was " + maxAttempts);
            }
            if (initialBackoff.isNegative() || initialBackoff.isZero()) {
                throw new IllegalArgumentException("initial-backoff must be positive, was " + initialBackoff);
            }
            if (maxBackoff.compareTo(initialBackoff) < 0) {
                throw new IllegalArgumentException("max-backoff must be at least initial-backoff (" + initialBackoff
                        + "), was " + maxBackoff);
            }
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be positive, was " + timeout);
            }
        }

        /** With the default attempts, backoff and timeout. */
        public static Notifications of(URI url, Secret secret) {
            return new Notifications(url, secret, DEFAULT_MAX_ATTEMPTS, null, null, null);
        }

        /** The URL without its user info, query string and fragment, for logs (a query may carry a token). */
        public String describeUrl() {
            return redacted(url);
        }

        private static String redacted(URI url) {
            return (url.getScheme() == null ? "" : url.getScheme() + "://") + url.getHost()
                    + (url.getPort() < 0 ? "" : ":" + url.getPort()) + (url.getRawPath() == null ? "" : url.getRawPath());
        }

        @Override
        public String toString() {
            return "Notifications[url=" + describeUrl() + ", secret=" + secret + ", maxAttempts=" + maxAttempts
                    + ", initialBackoff=" + initialBackoff + ", maxBackoff=" + maxBackoff + ", timeout=" + timeout
                    + "]";
        }
    }

    /**
     * Scale-out: several {@code serve} nodes sharing campaigns and Region limits through the PostgreSQL ledger
     * (docs/scale-out.md). Off by default; on, it requires a {@code jdbc:postgresql:} ledger and
     * {@code server.public-url}.
     *
     * @param enabled     whether this node joins a cluster (default false)
     * @param nodeId      this node's id, unique in the cluster (default: the host name and a random suffix)
     * @param heartbeat   how often the node refreshes its membership and re-balances its shares (default 2s)
     * @param nodeTimeout a node silent this long is no longer live (default 10s, at least three heartbeats)
     * @param lease       how long a contact claim lasts without renewal (default 30s)
     * @param claimsAhead how many contacts a node may hold claimed before it dials them, per campaign, waiting
     *                    callees included (default {@value #DEFAULT_CLAIMS_AHEAD}): what a killed node strands until
     *                    its lease runs out, and what bounds the contacts waiting for their calling window
     * @param rateGuard   how much longer than 1 s each node's window of Creates is when it paces its share of a
     *                    Region's (or campaign's) rate (default 50ms): the nodes' Creates, delayed unevenly on their
     *                    way, still hold the whole rate in every second where they arrive
     */
    public record Cluster(boolean enabled, String nodeId, Duration heartbeat, Duration nodeTimeout, Duration lease,
                          int claimsAhead, Duration rateGuard) {
        /** Default {@code claims-ahead}. */
        public static final int DEFAULT_CLAIMS_AHEAD = 200;
        /** Default heartbeat period. */
        public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(2);
        /** Default node timeout. */
        public static final Duration DEFAULT_NODE_TIMEOUT = Duration.ofSeconds(10);
        /** Default claim lease. */
        public static final Duration DEFAULT_LEASE = Duration.ofSeconds(30);

        public Cluster {
            heartbeat = heartbeat == null ? DEFAULT_HEARTBEAT : heartbeat;
            nodeTimeout = nodeTimeout == null ? DEFAULT_NODE_TIMEOUT : nodeTimeout;
            lease = lease == null ? DEFAULT_LEASE : lease;
            rateGuard = rateGuard == null ? ClusterSettings.DEFAULT_RATE_GUARD : rateGuard;
            if (rateGuard.isNegative() || rateGuard.compareTo(Duration.ofSeconds(1)) > 0) {
                throw new IllegalArgumentException("rate-guard must be 0 to 1s, was " + rateGuard);
            }
            if (nodeTimeout.compareTo(heartbeat.multipliedBy(3)) < 0) {
                throw new IllegalArgumentException("node-timeout must be at least three heartbeats (3 x " + heartbeat
                        + "), was " + nodeTimeout);
            }
            if (lease.toMillis() < 300) {
                throw new IllegalArgumentException("lease must be at least 300ms, was " + lease);
            }
            if (claimsAhead < 1) {
                throw new IllegalArgumentException("claims-ahead must be >= 1, was " + claimsAhead);
            }
        }

        /** With the default claims ahead. */
        public Cluster(boolean enabled, String nodeId, Duration heartbeat, Duration nodeTimeout, Duration lease) {
            this(enabled, nodeId, heartbeat, nodeTimeout, lease, DEFAULT_CLAIMS_AHEAD, null);
        }

        /** Clustering off. */
        public static Cluster disabled() {
            return new Cluster(false, null, null, null, null);
        }
    }

    /** The campaign of that name, if configured. */
    public Optional<CampaignConfig> campaign(String name) {
        return Optional.ofNullable(campaigns.get(name));
    }

    /** The Region of that name, if configured. */
    public Optional<RegionConfig> region(String name) {
        return Optional.ofNullable(regions.get(name));
    }

    /**
     * The HTTP server.
     *
     * @param host          interface to bind (default {@code 0.0.0.0})
     * @param port          port to bind (default 8080; 0 picks a free port)
     * @param webhookSecret the HMAC secret of {@code POST /v1/sma/invocations}, or null when not configured
     *                      ({@code serve} requires it; {@code demo} and {@code --sandbox} generate one per run)
     * @param controlToken  the bearer token of the control API, or null when not configured
     * @param tls           certificate and key for HTTPS, or null for plain HTTP
     * @param publicUrl     the URL the webhook is reachable at from outside (the Lambda bridge's target), or null
     * @param maxUploadSize the largest contact list the control API takes as a {@code text/csv} upload, in bytes
     * @param spillQueue    the Lambda bridge's spill queue this process drains ({@code spill-queue}), or null
     */
    public record Server(String host, int port, Secret webhookSecret, Secret controlToken, Tls tls, URI publicUrl,
                         long maxUploadSize, io.chimedialer.core.spill.SpillSettings spillQueue) {
        /** Default port. */
        public static final int DEFAULT_PORT = 8080;
        /** Default interface. */
        public static final String DEFAULT_HOST = "0.0.0.0";
        /** Default {@code max-upload-size}: the largest contact list uploaded through the control API, 1 GiB. */
        public static final long DEFAULT_MAX_UPLOAD_SIZE = 1L << 30;

        public Server {
            host = host == null || host.isBlank() ? DEFAULT_HOST : host;
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be between 0 and 65535, was " + port);
            }
            if (maxUploadSize < 1) {
                throw new IllegalArgumentException("max-upload-size must be at least 1 byte, was " + maxUploadSize);
            }
        }

        /** A server with the default {@code max-upload-size} and no spill queue. */
        public Server(String host, int port, Secret webhookSecret, Secret controlToken, Tls tls, URI publicUrl) {
            this(host, port, webhookSecret, controlToken, tls, publicUrl, DEFAULT_MAX_UPLOAD_SIZE, null);
        }

        /** Without a spill queue. */
        public Server(String host, int port, Secret webhookSecret, Secret controlToken, Tls tls, URI publicUrl,
                      long maxUploadSize) {
            this(host, port, webhookSecret, controlToken, tls, publicUrl, maxUploadSize, null);
        }

        /** With the default {@code max-upload-size}. */
        public Server(String host, int port, Secret webhookSecret, Secret controlToken, Tls tls, URI publicUrl,
                      io.chimedialer.core.spill.SpillSettings spillQueue) {
            this(host, port, webhookSecret, controlToken, tls, publicUrl, DEFAULT_MAX_UPLOAD_SIZE, spillQueue);
        }

        /** Defaults everywhere, no secrets, no TLS. */
        public static Server defaults() {
            return new Server(DEFAULT_HOST, DEFAULT_PORT, null, null, null, null);
        }
    }

    /**
     * TLS material, PEM files.
     *
     * @param certFile the certificate chain
     * @param keyFile  the private key (PKCS#8)
     */
    public record Tls(Path certFile, Path keyFile) {
        public Tls {
            Objects.requireNonNull(certFile, "cert-file");
            Objects.requireNonNull(keyFile, "key-file");
        }
    }

    /**
     * The ledger's database.
     *
     * @param url      a JDBC URL, {@code jdbc:sqlite:...} or {@code jdbc:postgresql:...}
     *                 (default {@code jdbc:sqlite:./data/dialer.db}, relative to the working directory)
     * @param username database user, or null (SQLite, or a user in the URL)
     * @param password database password, or null
     */
    public record Ledger(String url, String username, Secret password) {
        /** Default URL. */
        public static final String DEFAULT_URL = "jdbc:sqlite:./data/dialer.db";

        public Ledger {
            url = url == null || url.isBlank() ? DEFAULT_URL : url;
        }

        /** The default SQLite ledger. */
        public static Ledger defaults() {
            return new Ledger(DEFAULT_URL, null, null);
        }

        /**
         * The URL the ledger opens: {@link #url}, with {@code username} and {@code password} added as the
         * PostgreSQL driver's {@code user} and {@code password} parameters when they are set (a URL that names
         * its own {@code user=} or {@code password=} keeps it). SQLite ignores both.
         */
        public String jdbcUrl() {
            if (!url.startsWith("jdbc:postgresql:")) {
                return url;
            }
            StringBuilder out = new StringBuilder(url);
            String lower = url.toLowerCase(java.util.Locale.ROOT);
            if (username != null && !username.isBlank() && !lower.matches(".*[?&]user=.*")) {
                out.append(out.indexOf("?") < 0 ? '?' : '&').append("user=").append(encode(username));
            }
            if (password != null && !lower.matches(".*[?&]password=.*")) {
                out.append(out.indexOf("?") < 0 ? '?' : '&').append("password=").append(encode(password.reveal()));
            }
            return out.toString();
        }

        private static String encode(String value) {
            return java.net.URLEncoder.encode(value, java.nio.charset.StandardCharsets.UTF_8);
        }

        /** Shows the URL with any {@code password=} parameter masked, and never the password. */
        @Override
        public String toString() {
            return "Ledger[url=" + url.replaceAll("(?i)(password=)[^&;]*", "$1****") + ", username=" + username
                    + ", password=" + password + "]";
        }
    }
}

package io.chimedialer.app.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.contacts.CallingWindowConfig;
import io.chimedialer.core.contacts.PhoneNumbers;
import io.chimedialer.core.campaign.CampaignConfig;
import io.chimedialer.core.campaign.CampaignLimits;
import io.chimedialer.core.campaign.CampaignSchedule;
import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.core.campaign.RetryConfig;
import io.chimedialer.core.flow.FlowConfig;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Reads, checks and binds the dialer's YAML configuration (reference: {@code docs/configuration.md}).
 *
 * <p>Steps: {@code ${NAME}} / {@code ${NAME:-default}} substitution from {@code env} (comments excluded); YAML
 * parsing with the line of every key; validation of every key, reporting all problems at once; binding into the
 * dialer-core records. Campaigns come from the {@code campaigns:} mapping and from one {@code NAME.yaml} file per
 * campaign in {@code campaigns-dir}. Relative paths (contact lists, DNC lists, TLS files, secret files, the
 * campaigns directory) resolve against the directory of the file that names them; the SQLite ledger URL is left
 * to the JDBC driver and so is relative to the working directory.
 *
 * <p>Secrets ({@code server.webhook-secret}, {@code server.control-token}, {@code ledger.password}) must be
 * written as {@code ${NAME}} or {@code file:PATH}; they are never copied into messages. Stateless and thread-safe.
 */
public final class ConfigLoader {
    /** Where {@code dialer} looks for its configuration unless told otherwise. */
    public static final Path DEFAULT_CONFIG = Path.of("config", "dialer.yaml");

    private static final Pattern CAMPAIGN_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final List<String> RETRY_CAPS = List.of("max-attempts-per-number", "per-number-window");
    private static final FlowBinder<FlowConfig> FLOW = new FlowBinder<>(FlowConfig.class);

    private final Map<String, String> env;
    private final List<ConfigProblem> problems = new ArrayList<>();

    private ConfigLoader(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    /**
     * Whether a campaign's {@code contacts:} file may be missing here: in cluster mode only the node that imports a
     * list reads it (the others take its contacts from the shared ledger), so its absence is an error only where
     * the list is imported (the launch says so).
     */
    private boolean contactsOnlyWhereImported;

    /**
     * Loads the configuration, taking {@code ${...}} values from the process environment.
     *
     * @see #load(Path, Map)
     */
    public static DialerConfig load(Path file) throws ConfigException {
        return load(file, System.getenv());
    }

    /**
     * Loads and validates a configuration file and the campaign files it refers to.
     *
     * @param file the configuration file (e.g. {@code config/dialer.yaml})
     * @param env  the variables {@code ${NAME}} is replaced with
     * @return the validated configuration, bound to dialer-core's records
     * @throws ConfigException with every problem found, each with its file, key path and line
     */
    public static DialerConfig load(Path file, Map<String, String> env) throws ConfigException {
        return load(file, env, false);
    }

    /**
     * Like {@link #load(Path, Map)}, for commands that only read the ledger ({@code export}): the server's secrets
     * are not needed, so an unset {@code ${NAME}} or a missing secret file in {@code server.webhook-secret} or
     * {@code server.control-token} leaves that secret unset instead of being an error. Everything else is checked.
     */
    public static DialerConfig loadForReading(Path file, Map<String, String> env) throws ConfigException {
        return load(file, env, true);
    }

    private static DialerConfig load(Path file, Map<String, String> env, boolean serverSecretsOptional)
            throws ConfigException {
        ConfigLoader loader = new ConfigLoader(env);
        DialerConfig config = loader.loadAll(file);
        if (serverSecretsOptional) {
            loader.problems.removeIf(p -> p.file().equals(file)
                    && (p.keyPath().equals("server.webhook-secret") || p.keyPath().equals("server.control-token")));
        }
        if (!loader.problems.isEmpty() || config == null) {
            // Files in the order they were read, then lines; a stable sort keeps the walk's order within a line.
            Map<Path, Integer> fileOrder = new HashMap<>();
            for (ConfigProblem p : loader.problems) {
                fileOrder.putIfAbsent(p.file(), fileOrder.size());
            }
            List<ConfigProblem> sorted = new ArrayList<>(loader.problems);
            sorted.sort(java.util.Comparator.<ConfigProblem>comparingInt(p -> fileOrder.get(p.file()))
                    .thenComparingInt(ConfigProblem::line));
            throw new ConfigException(sorted);
        }
        return config;
    }

    /**
     * Checks and binds one campaign given as text (YAML or JSON, e.g. the body of {@code POST /v1/campaigns}),
     * against the Regions of a loaded configuration. No {@code ${...}} substitution is done: the text comes from
     * outside and must not read the environment. Relative paths resolve against {@code origin}'s directory;
     * whether a client may name server-side files at all is the caller's decision.
     *
     * @param name   the campaign's name
     * @param text   the campaign's keys, as in a campaign file
     * @param origin names the text in problems (e.g. {@code Path.of("request")}) and anchors relative paths
     * @param config the configuration whose {@code regions} the campaign may use
     * @return the campaign
     * @throws ConfigException with every problem, key paths prefixed {@code campaigns.NAME}
     */
    public static CampaignConfig parseCampaign(String name, String text, Path origin, DialerConfig config)
            throws ConfigException {
        ConfigLoader loader = new ConfigLoader(Map.of());
        loader.contactsOnlyWhereImported = config.cluster().enabled();
        CampaignConfig campaign = null;
        if (!CAMPAIGN_NAME.matcher(name).matches()) {
            loader.problems.add(new ConfigProblem(origin, "campaigns." + name, 0,
                    "campaign names use letters, digits, '.', '_' and '-'"));
        } else {
            FileContext ctx = loader.parse(origin, text, "campaigns." + name, false);
            Section c = ctx == null ? null : asSection(ctx, "", ctx.tree.root());
            campaign = c == null ? null : loader.campaign(name, c, config.regions().keySet());
        }
        if (!loader.problems.isEmpty() || campaign == null) {
            throw new ConfigException(loader.problems.isEmpty()
                    ? List.of(new ConfigProblem(origin, "campaigns." + name, 0, "not a campaign")) : loader.problems);
        }
        return campaign;
    }

    private DialerConfig loadAll(Path file) {
        FileContext ctx = open(file, "");
        if (ctx == null) {
            return null;
        }
        Section root = new Section(ctx, "", ctx.tree.root());
        DialerConfig.Server server = server(root.section("server"));
        DialerConfig.Ledger ledger = ledger(root.section("ledger"));
        DialerConfig.Cluster cluster = cluster(root.section("cluster"), server, ledger);
        contactsOnlyWhereImported = cluster != null && cluster.enabled();
        DialerConfig.Pacing pacing = pacing(root.section("pacing"));
        DialerConfig.Notifications notifications = notifications(root.section("notifications"));
        Section regionsSection = root.section("regions");
        Map<String, RegionConfig> regions = regions(root, regionsSection);
        Set<String> regionNames = new LinkedHashSet<>(regionsSection.keys());

        Map<String, CampaignConfig> campaigns = new LinkedHashMap<>();
        Section inline = root.section("campaigns");
        for (Map.Entry<String, JsonNode> e : inline.entries().entrySet()) {
            String name = e.getKey();
            Section c = asSection(ctx, inline.path(name), e.getValue());
            if (!CAMPAIGN_NAME.matcher(name).matches()) {
                ctx.error(inline.path(name), "campaign names use letters, digits, '.', '_' and '-'");
            } else if (c != null) {
                CampaignConfig campaign = campaign(name, c, regionNames);
                if (campaign != null) {
                    campaigns.put(name, campaign);
                }
            }
        }
        Path campaignsDir = campaignsDir(root, ctx);
        if (campaignsDir != null) {
            for (Path f : campaignFiles(ctx, campaignsDir)) {
                String fileName = f.getFileName().toString();
                String name = fileName.substring(0, fileName.lastIndexOf('.'));
                if (inline.keys().contains(name)) {
                    problems.add(new ConfigProblem(f, "campaigns." + name, 0,
                            "campaign '" + name + "' is also defined under campaigns: in " + file));
                    continue;
                }
                if (!CAMPAIGN_NAME.matcher(name).matches()) {
                    problems.add(new ConfigProblem(f, "", 0, "campaign file names use letters, digits, '.', '_' and '-'"));
                    continue;
                }
                FileContext cctx = open(f, "campaigns." + name);
                if (cctx == null) {
                    continue;
                }
                Section c = asSection(cctx, "", cctx.tree.root());
                CampaignConfig campaign = c == null ? null : campaign(name, c, regionNames);
                if (campaign != null) {
                    campaigns.put(name, campaign);
                }
            }
        }
        root.finish();
        if (server == null || ledger == null || cluster == null) {
            return null;
        }
        return new DialerConfig(file, server, ledger, regions, campaignsDir, campaigns, cluster, pacing,
                notifications);
    }

    /** {@code notifications:}: absent means no completion notices; present, it needs {@code url} and {@code secret}. */
    private DialerConfig.Notifications notifications(Section s) {
        if (!s.isPresent()) {
            return null;
        }
        URI url = s.url("url", null);
        if (url == null && !s.has("url")) {
            s.error("url", "required: the http:// or https:// URL completion notices are POSTed to");
        }
        int before = problems.size();
        Secret secret = secret(s, "secret");
        boolean missingVariable = s.ctx().refsIn(s.path("secret")).stream()
                .anyMatch(r -> r.source() == EnvSubstitution.Source.MISSING);
        if (secret == null && problems.size() == before && !missingVariable) {
            s.error("secret", s.has("secret") ? "is empty: completion notices are always signed"
                    : "required: the HMAC key that signs each notice, as ${NAME} or file:PATH");
        }
        Integer maxAttempts = s.integer("max-attempts", DialerConfig.Notifications.DEFAULT_MAX_ATTEMPTS, 1, 100);
        Duration initialBackoff = s.duration("initial-backoff", DialerConfig.Notifications.DEFAULT_INITIAL_BACKOFF);
        Duration maxBackoff = s.duration("max-backoff", DialerConfig.Notifications.DEFAULT_MAX_BACKOFF);
        Duration timeout = s.duration("timeout", DialerConfig.Notifications.DEFAULT_TIMEOUT);
        s.finish();
        if (url == null || secret == null) {
            return null;
        }
        try {
            return new DialerConfig.Notifications(url, secret,
                    maxAttempts == null ? DialerConfig.Notifications.DEFAULT_MAX_ATTEMPTS : maxAttempts,
                    initialBackoff, maxBackoff, timeout);
        } catch (RuntimeException e) {
            constructorError(s, e);
            return null;
        }
    }

    /** {@code pacing:}: how Regions are judged; every key optional. */
    private DialerConfig.Pacing pacing(Section s) {
        int faultAfter = s.integer("region-fault-after", DialerConfig.Pacing.DEFAULT_REGION_FAULT_AFTER, 1,
                1_000_000);
        Duration lagThreshold = s.duration("webhook-lag-threshold",
                io.chimedialer.core.pacing.PacingSettings.DEFAULT_WEBHOOK_LAG_THRESHOLD);
        if (lagThreshold != null && (lagThreshold.isNegative() || lagThreshold.compareTo(Duration.ofSeconds(5)) > 0)) {
            s.error("webhook-lag-threshold", "must be between 0 (off) and 5s (Chime's retry), was " + lagThreshold);
            lagThreshold = io.chimedialer.core.pacing.PacingSettings.DEFAULT_WEBHOOK_LAG_THRESHOLD;
        }
        s.finish();
        return new DialerConfig.Pacing(faultAfter, lagThreshold);
    }

    // ---------------------------------------------------------------- files

    private FileContext open(Path file, String prefix) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            problems.add(new ConfigProblem(file, prefix, 0, "file not found"));
            return null;
        } catch (MalformedInputException e) {
            problems.add(new ConfigProblem(file, prefix, 0, "not UTF-8 text"));
            return null;
        } catch (IOException e) {
            problems.add(new ConfigProblem(file, prefix, 0, "cannot read: " + e.getMessage()));
            return null;
        }
        return parse(file, text, prefix, true);
    }

    /** Parses a text; {@code substitute} false leaves {@code ${...}} as written (texts from API clients). */
    private FileContext parse(Path file, String text, String prefix, boolean substitute) {
        EnvSubstitution.Result substituted = substitute ? EnvSubstitution.apply(text, env)
                : new EnvSubstitution.Result(text, List.of());
        List<String[]> duplicates = new ArrayList<>();
        YamlTree tree;
        try {
            tree = YamlTree.parse(substituted.text(), (path, line) -> duplicates.add(new String[] {path, line.toString()}));
        } catch (YamlTree.SyntaxError e) {
            problems.add(new ConfigProblem(file, prefix, e.line(), "not valid YAML: " + maskEnvValues(e.getMessage(), substituted)));
            return null;
        }
        FileContext ctx = new FileContext(file, tree, substituted.refs(), prefix, problems);
        for (String[] d : duplicates) {
            problems.add(new ConfigProblem(file, ctx.display(d[0]), Integer.parseInt(d[1]),
                    "duplicate key (only one value may be given)"));
        }
        ctx.reportSubstitutionProblems();
        JsonNode root = tree.root();
        if (!root.isObject() && !root.isNull()) {
            problems.add(new ConfigProblem(file, prefix, 1, "expected a mapping (key: value lines) at the top of the file"));
            return null;
        }
        return ctx;
    }

    private String maskEnvValues(String message, EnvSubstitution.Result substituted) {
        String out = message;
        for (EnvSubstitution.Ref ref : substituted.refs()) {
            String v = ref.source() == EnvSubstitution.Source.ENV ? env.get(ref.name()) : null;
            if (v != null && v.length() >= 3) {
                out = out.replace(v, "****");
            }
        }
        return out;
    }

    private static Section asSection(FileContext ctx, String path, JsonNode node) {
        if (node == null || node.isNull()) {
            return Section.empty(ctx, path);
        }
        if (!node.isObject()) {
            ctx.error(path, "expected a mapping (key: value lines), was " + Section.describe(node));
            return null;
        }
        return new Section(ctx, path, node);
    }

    private Path campaignsDir(Section root, FileContext ctx) {
        String written = root.string("campaigns-dir", null);
        if (written == null) {
            Path implicit = ctx.resolve("campaigns");
            return root.has("campaigns-dir") || !Files.isDirectory(implicit) ? null : implicit;
        }
        Path dir = ctx.resolve(written);
        if (!Files.isDirectory(dir)) {
            root.error("campaigns-dir", "directory not found: " + dir);
            return null;
        }
        return dir;
    }

    private List<Path> campaignFiles(FileContext ctx, Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(Files::isRegularFile)
                    .filter(f -> {
                        String n = f.getFileName().toString();
                        return n.endsWith(".yaml") || n.endsWith(".yml");
                    })
                    .sorted()
                    .toList();
        } catch (IOException e) {
            ctx.error("campaigns-dir", "cannot list " + dir + ": " + e.getMessage());
            return List.of();
        }
    }

    // ---------------------------------------------------------------- server, ledger

    /** A size such as {@code 1GiB}, {@code 500MB}, {@code 256KiB} or a number of bytes; at least 1 byte. */
    static long byteSize(String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)\\s*(\\d+)\\s*(b|kb|kib|mb|mib|gb|gib|tb|tib)?\\s*")
                .matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a size: '" + text + "' (use e.g. 1GiB, 500MB, 256KiB or bytes)");
        }
        String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
        long factor = switch (unit) {
            case "kb" -> 1_000L;
            case "kib" -> 1L << 10;
            case "mb" -> 1_000_000L;
            case "mib" -> 1L << 20;
            case "gb" -> 1_000_000_000L;
            case "gib" -> 1L << 30;
            case "tb" -> 1_000_000_000_000L;
            case "tib" -> 1L << 40;
            default -> 1L;
        };
        long n;
        try {
            n = Math.multiplyExact(Long.parseLong(m.group(1)), factor);
        } catch (ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException("too large: '" + text + "'");
        }
        if (n < 1) {
            throw new IllegalArgumentException("must be at least 1 byte, was '" + text + "'");
        }
        return n;
    }

    private DialerConfig.Server server(Section s) {
        int port = s.integer("port", DialerConfig.Server.DEFAULT_PORT, 0, 65535);
        String host = s.string("host", DialerConfig.Server.DEFAULT_HOST);
        if (host.isBlank()) {
            s.error("host", "must not be blank");
        }
        Secret webhookSecret = secret(s, "webhook-secret");
        Secret controlToken = secret(s, "control-token");
        DialerConfig.Tls tls = null;
        Section t = s.section("tls");
        if (t.isPresent()) {
            Path cert = existingFile(t, "cert-file", true);
            Path key = existingFile(t, "key-file", true);
            t.finish();
            if (cert != null && key != null) {
                tls = new DialerConfig.Tls(cert, key);
            }
        }
        URI publicUrl = s.url("public-url", null);
        Long maxUpload = s.parsed("max-upload-size", DialerConfig.Server.DEFAULT_MAX_UPLOAD_SIZE, ConfigLoader::byteSize);
        io.chimedialer.core.spill.SpillSettings spill = spillQueue(s.section("spill-queue"));
        s.finish();
        try {
            return new DialerConfig.Server(host, port, webhookSecret, controlToken, tls, publicUrl,
                    maxUpload == null ? DialerConfig.Server.DEFAULT_MAX_UPLOAD_SIZE : maxUpload, spill);
        } catch (RuntimeException e) {
            constructorError(s, e);
            return null;
        }
    }

    /** {@code server.spill-queue}: absent means no draining. */
    private io.chimedialer.core.spill.SpillSettings spillQueue(Section q) {
        if (!q.isPresent()) {
            return null;
        }
        URI url = q.url("url", null);
        if (url == null) {
            q.error("url", "required: the SQS queue URL the Lambda bridge spills to (its DIALER_SPILL_QUEUE_URL)");
        }
        String region = q.string("region", null);
        Duration pollWait = q.duration("poll-wait", null);
        Duration visibility = q.duration("visibility-timeout", null);
        Duration grace = q.duration("unknown-grace", null);
        q.finish();
        if (url == null) {
            return null;
        }
        try {
            return new io.chimedialer.core.spill.SpillSettings(url, region, pollWait, visibility, grace);
        } catch (RuntimeException e) {
            constructorError(q, e);
            return null;
        }
    }

    private DialerConfig.Cluster cluster(Section s, DialerConfig.Server server, DialerConfig.Ledger ledger) {
        boolean enabled = s.bool("enabled", false);
        String nodeId = s.string("node-id", null);
        if (nodeId != null && (nodeId.isBlank() || nodeId.length() > 200)) {
            s.error("node-id", "must be 1 to 200 characters");
        }
        Duration heartbeat = s.duration("heartbeat", DialerConfig.Cluster.DEFAULT_HEARTBEAT);
        Duration nodeTimeout = s.duration("node-timeout", DialerConfig.Cluster.DEFAULT_NODE_TIMEOUT);
        Duration lease = s.duration("lease", DialerConfig.Cluster.DEFAULT_LEASE);
        Integer claimsAhead = s.integer("claims-ahead", DialerConfig.Cluster.DEFAULT_CLAIMS_AHEAD, 1, 100_000);
        Duration rateGuard = s.duration("rate-guard", io.chimedialer.core.cluster.ClusterSettings.DEFAULT_RATE_GUARD);
        s.finish();
        if (enabled) {
            // The cluster coordinates through the ledger's PostgreSQL and routes each call back to its node.
            if (ledger != null && !ledger.url().startsWith("jdbc:postgresql:")) {
                s.error("enabled", "cluster mode requires a jdbc:postgresql: ledger.url (the nodes share it)");
            }
            if (server != null && server.publicUrl() == null) {
                s.error("enabled", "cluster mode requires server.public-url (the Lambda bridge routes each call's"
                        + " invocations to the node that placed it)");
            }
        }
        if (nodeId == null) {
            nodeId = defaultNodeId();
        }
        try {
            return new DialerConfig.Cluster(enabled, nodeId, heartbeat, nodeTimeout, lease,
                    claimsAhead == null ? DialerConfig.Cluster.DEFAULT_CLAIMS_AHEAD : claimsAhead, rateGuard);
        } catch (RuntimeException e) {
            constructorError(s, e);
            return null;
        }
    }

    /** The host name and a random suffix, so that two nodes on one host differ. */
    static String defaultNodeId() {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "node";
        }
        return host + "-" + java.util.UUID.randomUUID().toString().substring(0, 8);
    }

    private DialerConfig.Ledger ledger(Section s) {
        String url = s.parsed("url", DialerConfig.Ledger.DEFAULT_URL, v -> {
            String u = v.trim();
            if (!u.startsWith("jdbc:sqlite:") && !u.startsWith("jdbc:postgresql:")) {
                throw new IllegalArgumentException("expected a jdbc:sqlite: or jdbc:postgresql: URL, was '"
                        + u.replaceAll("(?i)(password=)[^&;]*", "$1****") + "'");
            }
            return u;
        });
        String username = s.string("username", null);
        Secret password = secret(s, "password");
        s.finish();
        try {
            return new DialerConfig.Ledger(url, username, password);
        } catch (RuntimeException e) {
            constructorError(s, e);
            return null;
        }
    }

    /**
     * A secret: {@code file:PATH} (read, trailing newline dropped) or a value that came from the environment.
     * An empty value means "not configured" (null).
     */
    private Secret secret(Section s, String key) {
        s.secret(key);
        JsonNode n = s.get(key);
        if (n == null) {
            return null;
        }
        if (!n.isValueNode()) {
            s.error(key, "expected a text value (${NAME} or file:PATH)");
            return null;
        }
        List<EnvSubstitution.Ref> refs = s.ctx().refsIn(s.path(key));
        List<EnvSubstitution.Ref> fromEnv = refs.stream()
                .filter(r -> r.source() == EnvSubstitution.Source.ENV && !r.emptyValue()).toList();
        // A whole-scalar ${NAME} whose value YAML typed (a number, true...) is taken verbatim from the environment.
        String value = !n.isTextual() && fromEnv.size() == 1 ? env.get(fromEnv.get(0).name()) : n.asText();
        if (value.isEmpty()) {
            return null;
        }
        if (value.startsWith("file:")) {
            Path file = s.ctx().resolve(value.substring("file:".length()).trim());
            try {
                String content = Files.readString(file).replaceAll("[\\r\\n]+$", "");
                if (content.isEmpty()) {
                    s.error(key, "secret file is empty: " + file);
                    return null;
                }
                return Secret.of(content);
            } catch (NoSuchFileException e) {
                s.error(key, "secret file not found: " + file);
            } catch (IOException e) {
                s.error(key, "cannot read secret file " + file + ": " + e.getClass().getSimpleName());
            }
            return null;
        }
        if (!fromEnv.isEmpty()) {
            return Secret.of(value);
        }
        if (refs.stream().anyMatch(r -> r.source() == EnvSubstitution.Source.DEFAULT)) {
            s.error(key, "a secret may not have a default value: write ${NAME}, or ${NAME:-} to leave it unset");
        } else {
            s.error(key, "a secret must come from the environment (${NAME}) or a file (file:PATH), "
                    + "never be written in the configuration");
        }
        return null;
    }

    private static Path existingFile(Section s, String key, boolean required) {
        String written = required ? s.requiredString(key) : s.string(key, null);
        if (written == null) {
            return null;
        }
        Path p = s.ctx().resolve(written);
        if (!Files.isRegularFile(p)) {
            s.error(key, "file not found: " + p);
            return null;
        }
        return p;
    }

    // ---------------------------------------------------------------- regions

    private Map<String, RegionConfig> regions(Section root, Section regions) {
        Map<String, RegionConfig> out = new LinkedHashMap<>();
        if (regions.keys().isEmpty()) {
            if (!root.has("regions") || regions.isPresent()) {
                root.error("regions", "at least one Region is required (e.g. us-east-1: {...})");
            }
            return out;
        }
        Map<String, String> fromNumberOwner = new HashMap<>();
        for (Map.Entry<String, JsonNode> e : regions.entries().entrySet()) {
            String name = e.getKey();
            String path = regions.path(name);
            FileContext ctx = regions.ctx();
            if (!Values.regionName(name)) {
                ctx.error(path, "not an AWS Region name (e.g. us-east-1, us-west-2)");
            } else if (!Values.chimeVoiceRegion(name)) {
                List<String> hint = Values.didYouMean(name, Values.CHIME_VOICE_REGIONS);
                ctx.error(path, "'" + name + "' is not a Region with Amazon Chime SDK PSTN audio"
                        + (hint.isEmpty() ? "" : ", did you mean '" + hint.get(0) + "'?")
                        + " (Regions: " + String.join(", ", Values.CHIME_VOICE_REGIONS) + ")");
            }
            Section s = asSection(ctx, path, e.getValue());
            if (s == null) {
                continue;
            }
            int before = problems.size();
            String sma = s.requiredString("sip-media-application-id");
            double cps = s.positive("calls-per-second", 1.0);
            int burst = s.integer("burst", 1, 1, Integer.MAX_VALUE);
            int maxActive = s.integer("max-active-calls", 10, 1, Integer.MAX_VALUE);
            double updateCps = s.positive("update-calls-per-second", 5.0);
            if (!s.has("from-numbers")) {
                s.error("from-numbers", "required: at least one caller id in E.164 form, e.g. [\"+12065552368\"]");
            }
            List<String> fromNumbers = s.strings("from-numbers", Values::e164);
            checkFromNumbersUnique(s, name, fromNumberOwner);
            URI endpoint = s.url("endpoint", null);
            s.finish();
            if (problems.size() > before || sma == null) {
                continue;
            }
            try {
                out.put(name, new RegionConfig(name, sma, cps, burst, maxActive, updateCps, fromNumbers, endpoint));
            } catch (RuntimeException ex) {
                constructorError(s, ex);
            }
        }
        return out;
    }

    private static void checkFromNumbersUnique(Section s, String region, Map<String, String> owner) {
        JsonNode list = s.get("from-numbers");
        if (list == null || !list.isArray()) {
            return;
        }
        for (int i = 0; i < list.size(); i++) {
            String number = list.get(i).asText().trim();
            String previous = owner.putIfAbsent(number, region);
            if (previous != null) {
                s.ctx().error(s.path("from-numbers") + "[" + i + "]", previous.equals(region)
                        ? "listed twice" : "also a from-number of Region " + previous + " (a number belongs to one Region)");
            }
        }
    }

    // ---------------------------------------------------------------- campaigns

    private CampaignConfig campaign(String name, Section c, Set<String> regionNames) {
        int before = problems.size();
        FileContext ctx = c.ctx();
        String contacts = null;
        String written = c.string("contacts", null);
        if (written != null) {
            Path p = ctx.resolve(written);
            if (!Files.isRegularFile(p) && !contactsOnlyWhereImported) {
                c.error("contacts", "file not found: " + p);
            }
            contacts = p.toString();
        }
        Map<String, Integer> weights = weights(c, regionNames);
        String defaultRegion = c.parsed("default-region", "US", v -> {
            String iso = v.trim().toUpperCase(Locale.ROOT);
            if (!PhoneNumbers.supportedRegion(iso)) {
                throw new IllegalArgumentException("not a country code: '" + v + "' (use ISO 3166 codes such as US, GB, DE)");
            }
            return iso;
        });
        CallingWindowConfig window = callingWindow(c.section("calling-window"));
        boolean redialUnknown = c.bool("redial-unknown", false);
        RetryConfig retry = retry(c.section("retry"), redialUnknown);
        FlowConfig flow = null;
        JsonNode flowNode = c.get("flow");
        if (flowNode != null) {
            flow = FLOW.bind(ctx, c.path("flow"), flowNode);
        }
        List<String> dncLists = c.strings("dnc-lists", v -> {
            Path p = ctx.resolve(v);
            if (!Files.isRegularFile(p)) {
                throw new IllegalArgumentException("file not found: " + p);
            }
            return p.toString();
        });
        // Absent: derived from the flow (CampaignConfig.derivedMaxCallLifetime).
        Duration lifetime = c.duration("max-call-lifetime", null);
        if (lifetime != null && (lifetime.isZero() || lifetime.isNegative())) {
            c.error("max-call-lifetime", "must be > 0");
        }
        Integer pauseAfterActionFailures = c.integer("pause-after-action-failures",
                CampaignConfig.DEFAULT_PAUSE_AFTER_ACTION_FAILURES, 0, Integer.MAX_VALUE);
        // Unset, it is 30 s or the call lifetime if shorter (CampaignConfig); set, it must fit in the lifetime.
        Duration grace = c.duration("reconcile-grace", null);
        if (grace != null && (grace.isZero() || grace.isNegative())) {
            c.error("reconcile-grace", "must be > 0: how long an attempt whose Create outcome is unknown waits for"
                    + " its call to show up before it ends UNKNOWN");
        } else if (grace != null && lifetime != null && lifetime.compareTo(grace) < 0 && !lifetime.isZero()
                && !lifetime.isNegative()) {
            c.error("reconcile-grace", "must not be longer than max-call-lifetime (" + lifetime.toString()
                    .substring(2).toLowerCase(Locale.ROOT) + ")");
        }
        CampaignSchedule schedule = schedule(c);
        CampaignLimits limits = new CampaignLimits(c.positive("calls-per-second", null),
                c.integer("max-active-calls", null, 1, Integer.MAX_VALUE),
                c.integer("priority", 0, Integer.MIN_VALUE, Integer.MAX_VALUE));
        c.finish();
        if (problems.size() > before) {
            return null;
        }
        try {
            return new CampaignConfig(name, contacts, weights, defaultRegion, window, retry, flow, dncLists, lifetime,
                    redialUnknown, pauseAfterActionFailures == null ? CampaignConfig.DEFAULT_PAUSE_AFTER_ACTION_FAILURES
                            : pauseAfterActionFailures, grace, schedule, limits);
        } catch (RuntimeException e) {
            constructorError(c, e);
            return null;
        }
    }

    /** The campaign's {@code start} and {@code end}; an end not after the start is an error on {@code end}. */
    private static CampaignSchedule schedule(Section c) {
        ZonedDateTime start = c.parsed("start", null, Values::dateTime);
        ZonedDateTime end = c.parsed("end", null, Values::dateTime);
        if (start != null && end != null && !end.toInstant().isAfter(start.toInstant())) {
            c.error("end", "must be after start (" + start + "), was " + end);
            return CampaignSchedule.NONE;
        }
        return new CampaignSchedule(start, end);
    }

    private static Map<String, Integer> weights(Section c, Set<String> regionNames) {
        Map<String, Integer> weights = new LinkedHashMap<>();
        JsonNode n = c.get("regions");
        String path = c.path("regions");
        FileContext ctx = c.ctx();
        if (n == null) {
            c.error("regions", "required: the Regions to call from with their weights, e.g. { us-east-1: 2, us-west-2: 1 }");
            return weights;
        }
        if (n.isArray()) {
            for (int i = 0; i < n.size(); i++) {
                String region = n.get(i).asText();
                if (checkRegionDefined(ctx, path + "[" + i + "]", region, regionNames)) {
                    weights.put(region, 1);
                }
            }
        } else if (n.isObject()) {
            Section w = new Section(ctx, path, n);
            for (Map.Entry<String, JsonNode> e : w.entries().entrySet()) {
                String region = e.getKey();
                boolean defined = checkRegionDefined(ctx, w.path(region), region, regionNames);
                Integer weight = w.integer(region, null, 1, Integer.MAX_VALUE);
                if (weight == null && w.get(region) == null) {
                    w.error(region, "expected a weight (a whole number > 0)");
                }
                if (defined && weight != null) {
                    weights.put(region, weight);
                }
            }
        } else {
            c.error("regions", "expected a mapping of Region to weight, e.g. { us-east-1: 2, us-west-2: 1 }, was "
                    + Section.describe(n));
            return weights;
        }
        if (n.isEmpty()) {
            c.error("regions", "must name at least one Region");
        }
        return weights;
    }

    private static boolean checkRegionDefined(FileContext ctx, String path, String region, Set<String> regionNames) {
        if (regionNames.contains(region)) {
            return true;
        }
        List<String> hint = Values.didYouMean(region, regionNames);
        ctx.error(path, "Region '" + region + "' is not defined under regions:"
                + (hint.isEmpty() ? " (defined: " + String.join(", ", regionNames) + ")" : ", did you mean '" + hint.get(0) + "'?"));
        return false;
    }

    private CallingWindowConfig callingWindow(Section s) {
        if (!s.isPresent()) {
            return null;
        }
        int before = problems.size();
        LocalTime[] hours = s.parsed("hours", new LocalTime[] {LocalTime.MIDNIGHT, LocalTime.MIDNIGHT}, Values::hours);
        Set<DayOfWeek> days = null;
        if (s.has("days")) {
            List<String> items = s.strings("days", v -> {
                Values.days(v);
                return v;
            });
            days = Values.days(items);
        }
        String timezone = s.parsed("timezone", "callee", Values::timezone);
        s.finish();
        if (problems.size() > before) {
            return null;
        }
        try {
            return new CallingWindowConfig(hours[0], hours[1], days, timezone);
        } catch (RuntimeException e) {
            constructorError(s, e);
            return null;
        }
    }

    private RetryConfig retry(Section s, boolean redialUnknown) {
        if (!s.isPresent()) {
            return null;
        }
        int before = problems.size();
        int maxPerNumber = s.integer("max-attempts-per-number", 3, 1, Integer.MAX_VALUE);
        Duration window = s.duration("per-number-window", Duration.ofHours(24));
        if (window.isZero() || window.isNegative()) {
            s.error("per-number-window", "must be > 0");
        }
        List<String> dispositionNames = new ArrayList<>();
        for (Disposition d : Disposition.values()) {
            dispositionNames.add(d.name());
        }
        Map<Disposition, RetryConfig.Rule> rules = new EnumMap<>(Disposition.class);
        for (String key : s.keys()) {
            if (RETRY_CAPS.contains(key)) {
                continue;
            }
            s.know(key);
            Disposition d = disposition(key);
            if (d == null) {
                List<String> candidates = new ArrayList<>(dispositionNames);
                candidates.addAll(RETRY_CAPS);
                List<String> hint = Values.didYouMean(key, candidates);
                s.error(key, "not a disposition" + (hint.isEmpty()
                        ? " (use " + String.join(", ", dispositionNames) + ", or " + String.join(", ", RETRY_CAPS) + ")"
                        : ", did you mean '" + hint.get(0) + "'?"));
                continue;
            }
            if (rules.containsKey(d)) {
                s.error(key, "a second rule for " + d);
                continue;
            }
            Section r = s.section(key);
            if (!r.isPresent()) {
                if (s.get(key) == null) {
                    s.error(key, "expected a rule such as { after: 10m, max-attempts: 3 }");
                }
                continue;
            }
            if (!r.has("after")) {
                r.error("after", "required: the delay before the next attempt, e.g. 10m");
            }
            Duration after = r.duration("after", null);
            if (!r.has("max-attempts")) {
                r.error("max-attempts", "required: the most attempts in all for a contact, e.g. 3");
            }
            Integer max = r.integer("max-attempts", null, 1, Integer.MAX_VALUE);
            r.finish();
            if (d == Disposition.UNKNOWN && !redialUnknown) {
                s.error(key, "retrying UNKNOWN calls needs redial-unknown: true (an UNKNOWN call may have reached the callee)");
            }
            if (after != null && max != null) {
                try {
                    rules.put(d, new RetryConfig.Rule(after, max));
                } catch (RuntimeException e) {
                    constructorError(r, e);
                }
            }
        }
        s.finish();
        if (problems.size() > before) {
            return null;
        }
        try {
            return new RetryConfig(rules, maxPerNumber, window);
        } catch (RuntimeException e) {
            constructorError(s, e);
            return null;
        }
    }

    /** The disposition named by a retry key: {@code BUSY}, {@code busy} and {@code no-answer} are accepted. */
    private static Disposition disposition(String key) {
        String n = key.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (Disposition d : Disposition.values()) {
            if (d.name().equals(n)) {
                return d;
            }
        }
        return null;
    }

    /**
     * Turns an exception from a core record's constructor into a problem at the key its message names
     * (the records name fields by their configuration keys), else at the section.
     */
    private static void constructorError(Section s, RuntimeException e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        List<String> keys = new ArrayList<>(s.knownKeys());
        keys.sort(Collections.reverseOrder((a, b) -> Integer.compare(a.length(), b.length())));
        for (String key : keys) {
            if (message.startsWith(key)) {
                String rest = message.substring(key.length()).trim();
                s.error(key, e instanceof NullPointerException || rest.isEmpty() ? "required" : message);
                return;
            }
        }
        s.ctx().error(s.path(), message);
    }
}

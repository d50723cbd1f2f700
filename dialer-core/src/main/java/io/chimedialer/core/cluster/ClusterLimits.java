package io.chimedialer.core.cluster;

import io.chimedialer.core.pacing.CampaignPacing;
import io.chimedialer.core.pacing.RegionPacing;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's shares of every Region's limits, so that a Region's configured rate and active-call cap hold
 * across all live nodes together.
 *
 * <p><b>Split.</b> With {@code n} live nodes, each paces at {@code rate / n} and holds at most
 * {@code cap / n} active calls; the remainder of the cap goes one permit each to the first nodes in id order,
 * so the caps add up to the configured cap exactly. Applied through {@link
 * io.chimedialer.core.pacing.AdaptiveRate#setConfiguredRate(double)} (the AIMD backoff then works within the
 * share) and {@link io.chimedialer.core.pacing.ActivePermits#setConfiguredCap(int)}.
 *
 * <p><b>Re-balance without overlap.</b> Each heartbeat publishes the member set the node split by. A share
 * that goes down is applied at once; a share that goes up (a node left or died) is applied only once every
 * other live node has published the same member set, i.e. has already lowered its own share for it. So when
 * nodes join or leave gracefully, the sum of the applied shares never exceeds the configured limits. A node
 * that dies stops calling; its share is unused until the others see it gone (the node timeout) plus one
 * heartbeat. A node cut off from the database {@linkplain #fence() fences} itself (cap 0, no new call) once
 * it has not heartbeated for the node timeout less two heartbeats (checked every heartbeat), so before the
 * others drop it and take over its share; only clock skew between nodes, or a stall of the node longer than a
 * heartbeat, can make the two overlap, for at most that skew or stall. A new node starts
 * fenced and gets its cap once the others acknowledged it.
 *
 * <p><b>Calls outlive their node.</b> A node that dies leaves its calls live at Chime until they hang up. Its
 * open attempts (claimed contacts of a node that is no longer live, with an attempt without outcome intended
 * within the call hold) are held back from the cap before it is split, so that the survivors do not start
 * calls in their place; they are released as their outcomes are recorded or the call hold passes.
 *
 * <p>A rate change (control event) scales the applied shares by the same factor at once on each node: a
 * raise cannot overshoot, a cut overshoots only until every node received it (about a second).
 *
 * <p>Thread-safe (synchronized).
 */
public final class ClusterLimits {
    private static final Logger log = LoggerFactory.getLogger(ClusterLimits.class);

    /** Where a Region's share is applied. */
    interface Target {
        void rate(double callsPerSecond);

        void cap(int maxActiveCalls);
    }

    private static final class Region {
        final Target target;
        double totalRate;
        final int totalCap;
        double rate;
        int cap;
        int held;

        Region(Target target, double totalRate, int totalCap) {
            this.target = target;
            this.totalRate = totalRate;
            this.totalCap = totalCap;
            this.rate = totalRate;
            this.cap = totalCap;
        }
    }

    private final String nodeId;
    private final Map<String, Region> regions = new LinkedHashMap<>();
    /** The campaigns this node runs with caps of their own: each gets its share as the Regions do. */
    private final List<CampaignPacing> campaigns = new ArrayList<>();
    private List<String> members = List.of();
    private boolean fenced;
    /** The send guard of every shared rate's limiter (see {@link RegionPacing#setRateGuard}), or null. */
    private Duration rateGuard;

    /**
     * @param nodeId    this node
     * @param regions   every configured Region's pacing; the totals are their configured rate and cap
     * @param rateGuard set as the send guard of every Region's limiter and of every shared campaign rate's: each node
     *                  paces its share so that the nodes' Creates, unevenly delayed on their way, still hold the
     *                  total rate where they arrive
     */
    public ClusterLimits(String nodeId, Map<String, RegionPacing> regions, Duration rateGuard) {
        this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
        this.rateGuard = Objects.requireNonNull(rateGuard, "rateGuard");
        regions.values().forEach(pacing -> pacing.setRateGuard(rateGuard));
        regions.forEach((name, pacing) -> this.regions.put(name, new Region(new Target() {
            @Override
            public void rate(double callsPerSecond) {
                pacing.rate().setConfiguredRate(callsPerSecond);
            }

            @Override
            public void cap(int maxActiveCalls) {
                pacing.permits().setConfiguredCap(maxActiveCalls);
            }
        }, pacing.config().callsPerSecond(), pacing.config().maxActiveCalls())));
    }

    /** For tests: Regions by name with their targets and totals. */
    ClusterLimits(String nodeId, Map<String, Target> targets, Map<String, RegionShare> totals) {
        this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
        targets.forEach((name, target) -> {
            RegionShare total = totals.get(name);
            regions.put(name, new Region(target, total.callsPerSecond(), total.maxActiveCalls()));
        });
    }

    /**
     * Splits a campaign's own caps ({@code calls-per-second}, {@code max-active-calls}) between the live nodes as the
     * Regions' are: each node paces it at {@code rate / n} and holds at most its share of the cap. Every node that
     * runs the campaign must share it so; a node that does not run it leaves its share unused. The share follows
     * every heartbeat, lowered and raised at once (a node that joins may overlap the others for one heartbeat).
     *
     * @return ends the sharing (when the run is over)
     */
    public synchronized Runnable share(CampaignPacing campaign) {
        Objects.requireNonNull(campaign, "campaign");
        campaigns.add(campaign);
        if (rateGuard != null) {
            campaign.setRateGuard(rateGuard);
        }
        if (!members.isEmpty()) {
            shareCampaign(campaign, members);
        }
        return () -> {
            synchronized (this) {
                campaigns.remove(campaign);
            }
        };
    }

    private void shareCampaign(CampaignPacing campaign, List<String> now) {
        RegionShare share = share(now, nodeId, campaign.callsPerSecond().orElse(1.0),
                campaign.maxActiveCalls().orElse(0));
        campaign.setShare(share.callsPerSecond(), share.maxActiveCalls());
    }

    /** This node. */
    public String nodeId() {
        return nodeId;
    }

    /**
     * A node's share of a Region's limits when {@code members} are live.
     *
     * @param members   the live node ids (any order; duplicates ignored)
     * @param node      the node (one of the members)
     * @param totalRate the Region's configured rate
     * @param totalCap  the Region's configured cap
     * @return the share
     */
    public static RegionShare share(List<String> members, String node, double totalRate, int totalCap) {
        List<String> sorted = new ArrayList<>(new TreeSet<>(members));
        int index = sorted.indexOf(node);
        if (index < 0) {
            throw new IllegalArgumentException("node " + node + " is not among the members " + sorted);
        }
        int n = sorted.size();
        int cap = totalCap / n + (index < totalCap % n ? 1 : 0);
        return new RegionShare(totalRate / n, cap);
    }

    /**
     * Stops new calls at once (cap 0 in every Region), until a heartbeat's {@link #apply} raises the caps again
     * with the others' acknowledgement. Call it before any campaign starts; {@link ClusterMembership#start()}
     * does.
     */
    public synchronized void fence() {
        if (!fenced) {
            log.warn("node {} fenced: no new calls until its heartbeat is acknowledged by the cluster", nodeId);
        }
        fenced = true;
        members = List.of();
        regions.values().forEach(r -> {
            r.cap = 0;
            r.target.cap(0);
        });
    }

    /** Whether the node is fenced (cap 0 everywhere) now. */
    public synchronized boolean fenced() {
        return fenced;
    }

    /**
     * Re-balances for a heartbeat's view: lowers shares at once, raises them only when every other live node has
     * published the same member set.
     *
     * @param live the live nodes as read from the database (this node's own row is ignored)
     * @return the member set this node split by now (to publish with this heartbeat)
     */
    public List<String> apply(List<NodeInfo> live) {
        return apply(live, Map.of());
    }

    /**
     * Like {@link #apply(List)}, holding back calls that are still live at Chime but belong to no live node (a
     * node that died with calls up): the caps are split from {@code cap - held}.
     *
     * @param live the live nodes
     * @param held open calls of nodes that are no longer live, by Region (absent: none)
     * @return the member set this node split by now
     */
    public synchronized List<String> apply(List<NodeInfo> live, Map<String, Integer> held) {
        TreeSet<String> set = new TreeSet<>();
        live.forEach(n -> set.add(n.nodeId()));
        set.add(nodeId);
        List<String> now = List.copyOf(set);
        boolean acknowledged = live.stream()
                .filter(n -> !n.nodeId().equals(nodeId))
                .allMatch(n -> n.members().equals(now));
        boolean changed = false;
        for (Map.Entry<String, Region> e : regions.entrySet()) {
            Region r = e.getValue();
            r.held = Math.min(r.totalCap, Math.max(0, held.getOrDefault(e.getKey(), 0)));
            RegionShare target = share(now, nodeId, r.totalRate, r.totalCap - r.held);
            double rate = target.callsPerSecond() <= r.rate || acknowledged ? target.callsPerSecond() : r.rate;
            int cap = target.maxActiveCalls() <= r.cap || acknowledged ? target.maxActiveCalls() : r.cap;
            if (rate != r.rate && rate > 0) {
                r.rate = rate;
                r.target.rate(rate);
                changed = true;
            }
            if (cap != r.cap) {
                r.cap = cap;
                r.target.cap(cap);
                changed = true;
            }
        }
        for (CampaignPacing campaign : campaigns) {
            shareCampaign(campaign, now);
        }
        if (fenced && acknowledged) {
            fenced = false;
        }
        if (changed || !now.equals(members)) {
            log.info("node {}: {} live nodes {}, shares {}{}", nodeId, now.size(), now, sharesLocked(),
                    acknowledged ? "" : " (raises wait for the others' acknowledgement)");
        }
        members = now;
        return now;
    }

    /**
     * Changes a Region's configured (total) rate, e.g. from a control event: the applied share is scaled by the
     * same factor at once, never above the new even split.
     *
     * @param region         the Region
     * @param callsPerSecond the new total (&gt; 0)
     * @return whether the Region is known
     */
    public synchronized boolean setTotalRate(String region, double callsPerSecond) {
        if (!(callsPerSecond > 0)) {
            throw new IllegalArgumentException("calls per second must be > 0, was " + callsPerSecond);
        }
        Region r = regions.get(region);
        if (r == null) {
            return false;
        }
        double scaled = r.rate * callsPerSecond / r.totalRate;
        r.totalRate = callsPerSecond;
        double even = members.isEmpty() ? callsPerSecond : share(members, nodeId, callsPerSecond, 0)
                .callsPerSecond();
        r.rate = Math.min(scaled, even);
        r.target.rate(r.rate);
        return true;
    }

    /** The configured totals, by Region. */
    public synchronized Map<String, RegionShare> totals() {
        Map<String, RegionShare> out = new LinkedHashMap<>();
        regions.forEach((name, r) -> out.put(name, new RegionShare(r.totalRate, r.totalCap)));
        return out;
    }

    /** The calls held back from each Region's cap at the last {@link #apply}: open calls of nodes gone. */
    public synchronized Map<String, Integer> held() {
        Map<String, Integer> out = new LinkedHashMap<>();
        regions.forEach((name, r) -> out.put(name, r.held));
        return out;
    }

    /** The shares applied now, by Region. */
    public synchronized Map<String, RegionShare> shares() {
        return sharesLocked();
    }

    /** The member set of the last {@link #apply}, or empty before the first and after {@link #fence()}. */
    public synchronized List<String> members() {
        return members;
    }

    private Map<String, RegionShare> sharesLocked() {
        Map<String, RegionShare> out = new LinkedHashMap<>();
        regions.forEach((name, r) -> out.put(name, new RegionShare(r.rate, r.cap)));
        return out;
    }
}

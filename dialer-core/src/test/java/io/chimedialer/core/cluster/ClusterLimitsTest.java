package io.chimedialer.core.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterLimitsTest {
    private static final String EAST = "us-east-1";
    private static final String WEST = "us-west-2";

    /** Records what was applied. */
    static final class Recorder implements ClusterLimits.Target {
        final List<String> calls = new ArrayList<>();
        double rate = Double.NaN;
        int cap = -1;

        @Override
        public void rate(double callsPerSecond) {
            rate = callsPerSecond;
            calls.add("rate=" + callsPerSecond);
        }

        @Override
        public void cap(int maxActiveCalls) {
            cap = maxActiveCalls;
            calls.add("cap=" + maxActiveCalls);
        }
    }

    private final Recorder east = new Recorder();
    private final Recorder west = new Recorder();

    private ClusterLimits limits(String node) {
        Map<String, ClusterLimits.Target> targets = new LinkedHashMap<>();
        targets.put(EAST, east);
        targets.put(WEST, west);
        return new ClusterLimits(node, targets, Map.of(EAST, new RegionShare(9, 10), WEST, new RegionShare(2, 2)));
    }

    private static NodeInfo node(String id, String... members) {
        return new NodeInfo(id, null, Instant.EPOCH, Instant.EPOCH, List.of(members), Map.of());
    }

    @Test
    void share_threeNodes_rateEvenAndCapRemainderToTheFirstIds() {
        List<String> members = List.of("c", "a", "b");

        assertThat(ClusterLimits.share(members, "a", 9, 10)).isEqualTo(new RegionShare(3, 4));
        assertThat(ClusterLimits.share(members, "b", 9, 10)).isEqualTo(new RegionShare(3, 3));
        assertThat(ClusterLimits.share(members, "c", 9, 10)).isEqualTo(new RegionShare(3, 3));
        assertThat(List.of("a", "b", "c").stream().mapToInt(n -> ClusterLimits.share(members, n, 2, 2)
                .maxActiveCalls()).toArray()).containsExactly(1, 1, 0);
    }

    @Test
    void share_nodeNotAMember_fails() {
        assertThatThrownBy(() -> ClusterLimits.share(List.of("a"), "z", 1, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("z");
    }

    @Test
    void fence_thenAloneInTheCluster_capsRestoredAtTheFirstApply() {
        ClusterLimits limits = limits("a");
        limits.fence();
        assertThat(east.cap).isZero();
        assertThat(west.cap).isZero();
        assertThat(limits.fenced()).isTrue();

        List<String> members = limits.apply(List.of(node("a")));

        assertThat(members).containsExactly("a");
        assertThat(limits.fenced()).isFalse();
        assertThat(limits.shares()).containsEntry(EAST, new RegionShare(9, 10)).containsEntry(WEST, new RegionShare(2, 2));
        assertThat(east.cap).isEqualTo(10);
    }

    @Test
    void apply_nodeJoins_lowersAtOnceWithoutWaiting() {
        ClusterLimits limits = limits("a");
        limits.apply(List.of(node("a")));

        // b has not published anything yet: lowering never waits
        List<String> members = limits.apply(List.of(node("a", "a"), node("b")));

        assertThat(members).containsExactly("a", "b");
        assertThat(east.rate).isEqualTo(4.5);
        assertThat(east.cap).isEqualTo(5);
        assertThat(west.cap).isEqualTo(1);
    }

    @Test
    void apply_newNode_startsFencedAndRaisesOnlyOnceTheOthersAcknowledge() {
        ClusterLimits limits = limits("b");
        limits.fence();

        limits.apply(List.of(node("a", "a"), node("b")));
        assertThat(east.cap).as("a still splits by {a}: b must not take a share yet").isZero();
        assertThat(east.rate).isEqualTo(4.5);

        limits.apply(List.of(node("a", "a", "b"), node("b", "a", "b")));
        assertThat(east.cap).isEqualTo(5);
        assertThat(west.cap).isEqualTo(1);
        assertThat(limits.fenced()).isFalse();
    }

    @Test
    void apply_nodeLeaves_raisesOnlyAfterTheRemainingNodesAcknowledge() {
        ClusterLimits limits = limits("a");
        limits.apply(List.of(node("a"), node("b", "a", "b", "c"), node("c", "a", "b", "c")));
        limits.apply(List.of(node("a"), node("b", "a", "b", "c"), node("c", "a", "b", "c")));
        assertThat(limits.shares().get(EAST)).isEqualTo(new RegionShare(3, 4));

        List<String> members = limits.apply(List.of(node("a"), node("b", "a", "b", "c")));
        assertThat(members).containsExactly("a", "b");
        assertThat(limits.shares().get(EAST)).as("b still splits by three").isEqualTo(new RegionShare(3, 4));

        limits.apply(List.of(node("a"), node("b", "a", "b")));
        assertThat(limits.shares().get(EAST)).isEqualTo(new RegionShare(4.5, 5));
        assertThat(limits.shares().get(WEST)).isEqualTo(new RegionShare(1, 1));
    }

    @Test
    void setTotalRate_scalesTheAppliedShareAndIgnoresUnknownRegions() {
        ClusterLimits limits = limits("a");
        limits.apply(List.of(node("a"), node("b", "a", "b")));
        assertThat(east.rate).isEqualTo(4.5);

        assertThat(limits.setTotalRate(EAST, 3)).isTrue();
        assertThat(east.rate).isEqualTo(1.5);
        assertThat(limits.totals().get(EAST)).isEqualTo(new RegionShare(3, 10));
        assertThat(limits.setTotalRate("eu-west-1", 3)).isFalse();
        assertThatThrownBy(() -> limits.setTotalRate(EAST, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void apply_openCallsOfNodesGone_heldBackFromTheCapBeforeTheSplit() {
        ClusterLimits limits = limits("a");
        limits.apply(List.of(node("a"), node("b", "a", "b")), Map.of(EAST, 4));

        assertThat(limits.shares().get(EAST)).isEqualTo(new RegionShare(4.5, 3));
        assertThat(limits.shares().get(WEST)).isEqualTo(new RegionShare(1, 1));
        assertThat(limits.held()).containsEntry(EAST, 4).containsEntry(WEST, 0);

        limits.apply(List.of(node("a"), node("b", "a", "b")), Map.of(EAST, 50));
        assertThat(limits.shares().get(EAST).maxActiveCalls()).as("never below zero").isZero();

        limits.apply(List.of(node("a"), node("b", "a", "b")), Map.of());
        assertThat(limits.shares().get(EAST)).as("released once the calls ended").isEqualTo(new RegionShare(4.5, 5));
    }

    @Test
    void share_campaignWithCapsOfItsOwn_eachNodePacesItAtItsShare_andTheFullCapsWhenAlone() {
        ClusterLimits limits = limits("b");
        io.chimedialer.core.pacing.CampaignPacing campaign = io.chimedialer.core.pacing.CampaignPacing.of("c", 6.0, 5,
                0, java.time.Duration.ofMinutes(10), reactor.test.scheduler.VirtualTimeScheduler.create());
        Runnable unshare = limits.share(campaign);

        limits.apply(List.of(node("a", "a", "b", "c"), node("c", "a", "b", "c")));

        // Three nodes: 2/s each; 5 live calls split 2, 2, 1 in node-id order ("b" is second).
        assertThat(campaign.rateShare()).hasValue(2.0);
        assertThat(campaign.liveCalls().orElseThrow().configuredCap()).isEqualTo(2);

        limits.apply(List.of());
        assertThat(campaign.rateShare()).hasValue(6.0);
        assertThat(campaign.liveCalls().orElseThrow().configuredCap()).isEqualTo(5);

        unshare.run();
        limits.apply(List.of(node("a", "a", "b"), node("c", "a", "b", "c")));
        assertThat(campaign.rateShare()).hasValue(6.0);
    }

    @Test
    void constructor_rateGuard_setOnEveryRegionsLimiterAndOnEverySharedCampaignRate() {
        reactor.test.scheduler.VirtualTimeScheduler time = reactor.test.scheduler.VirtualTimeScheduler.create();
        io.chimedialer.core.chime.RegionConfig config = new io.chimedialer.core.chime.RegionConfig(EAST, "sma-1", 40,
                1, 100, 5, List.of("+17035550100"), null);
        io.chimedialer.core.pacing.RegionPacing pacing = io.chimedialer.core.pacing.RegionPacing.create(config,
                io.chimedialer.core.pacing.PacingSettings.ofDefaults(), time, p -> { });
        io.chimedialer.core.pacing.CampaignPacing campaign = io.chimedialer.core.pacing.CampaignPacing.of("c", 20.0,
                null, 0, java.time.Duration.ofMinutes(5), time);
        assertThat(pacing.limiter().sendGuard())
                .isEqualTo(io.chimedialer.core.pacing.internal.RegionRateLimiter.SEND_GUARD);

        ClusterLimits guarded = new ClusterLimits("a", Map.of(EAST, pacing), java.time.Duration.ofMillis(70));
        guarded.share(campaign);

        assertThat(pacing.limiter().sendGuard()).isEqualTo(java.time.Duration.ofMillis(70));
        assertThat(campaign.rate().sendGuard()).isEqualTo(java.time.Duration.ofMillis(70));
    }
}

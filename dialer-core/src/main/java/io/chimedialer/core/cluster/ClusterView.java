package io.chimedialer.core.cluster;

import java.time.Instant;
import java.util.List;

/**
 * The live nodes as one heartbeat of this node saw them (this node included).
 *
 * @param self the node that looked
 * @param at   when (its clock)
 * @param live the nodes whose last heartbeat is within the node timeout and that did not leave, by id
 */
public record ClusterView(String self, Instant at, List<NodeInfo> live) {
    public ClusterView {
        live = List.copyOf(live);
    }

    /** The live node ids, sorted. */
    public List<String> ids() {
        return live.stream().map(NodeInfo::nodeId).sorted().toList();
    }
}

package io.chimedialer.core.cluster;

/**
 * One node's share of a Region's limits.
 *
 * @param callsPerSecond the Create rate this node paces at
 * @param maxActiveCalls the active calls this node may hold
 */
public record RegionShare(double callsPerSecond, int maxActiveCalls) {
}

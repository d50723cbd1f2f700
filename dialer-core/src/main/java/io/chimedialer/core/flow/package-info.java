/**
 * Call flows: {@link io.chimedialer.core.flow.FlowConfig} (what a campaign's call says and asks, bound from
 * YAML) and the stateless {@link io.chimedialer.core.flow.FlowEngine} that turns a call's state (kept in its
 * TransactionAttributes) and what just happened into at most 10 Chime actions.
 */
package io.chimedialer.core.flow;

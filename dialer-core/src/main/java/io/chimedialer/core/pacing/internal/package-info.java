/**
 * The pacing's implementation: the per-Region rate limiter behind {@link io.chimedialer.core.pacing.RegionPacing}
 * and the clock it reads from a Reactor scheduler. Public only so that the pacing package can use them; not an API.
 */
package io.chimedialer.core.pacing.internal;

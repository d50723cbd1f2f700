/**
 * Test fixtures shared by the dialer's modules: {@link io.chimedialer.testkit.ManualClock} (time that moves when a
 * test says so), {@link io.chimedialer.testkit.VirtualTimeClock} (a {@link java.time.Clock} over reactor-test's
 * virtual time), {@link io.chimedialer.testkit.PostgresSchema} (a fresh schema per test) and
 * {@link io.chimedialer.testkit.Await} (a bounded wait, for integration tests that wait on something real).
 */
package io.chimedialer.testkit;

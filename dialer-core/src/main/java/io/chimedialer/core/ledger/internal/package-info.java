/**
 * The ledger's implementation: the SQLite and PostgreSQL back-ends and the group-commit writer behind
 * {@link io.chimedialer.core.ledger.JdbcLedger}. Public only so that the ledger's own package can use them; not an
 * API, and nothing outside {@code io.chimedialer.core.ledger} should import it.
 */
package io.chimedialer.core.ledger.internal;

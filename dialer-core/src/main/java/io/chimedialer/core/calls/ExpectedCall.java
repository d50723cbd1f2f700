package io.chimedialer.core.calls;

import io.chimedialer.core.domain.Attempt;
import java.util.Objects;

/**
 * An attempt and its context, as the pipeline registers it or as a ledger lookup restores it after a restart.
 *
 * @param attempt the attempt
 * @param context its context
 */
public record ExpectedCall(Attempt attempt, CallContext context) {
    public ExpectedCall {
        Objects.requireNonNull(attempt, "attempt");
        Objects.requireNonNull(context, "context");
    }
}

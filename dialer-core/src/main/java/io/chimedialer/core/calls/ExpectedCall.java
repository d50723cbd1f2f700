package io.chimedialer.core.calls;

import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import java.util.Objects;

/**
 * An attempt and its context, as the pipeline registers it or as a ledger lookup restores it after a restart.
 *
 * @param attempt       the attempt
 * @param context       its context
 * @param closedUnknown the UNKNOWN result the ledger holds for it (the dialer closed it before its call's end came),
 *                      or null for an attempt without a result; a call restored with one is closed, and its HANGUP
 *                      replaces that UNKNOWN ({@link CallEvent.UnknownResolved})
 */
public record ExpectedCall(Attempt attempt, CallContext context, CallResult closedUnknown) {
    public ExpectedCall {
        Objects.requireNonNull(attempt, "attempt");
        Objects.requireNonNull(context, "context");
        if (closedUnknown != null && closedUnknown.disposition() != Disposition.UNKNOWN) {
            throw new IllegalArgumentException("closedUnknown must be UNKNOWN, was " + closedUnknown.disposition());
        }
    }

    /** An attempt without a result. */
    public ExpectedCall(Attempt attempt, CallContext context) {
        this(attempt, context, null);
    }
}

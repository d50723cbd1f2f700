package io.chimedialer.core.domain;

import io.chimedialer.core.contacts.Contact;
import java.util.Objects;

/**
 * One intended call to one contact. Its id travels in ArgumentsMap so that invocations can be
 * correlated before Create's response arrives; it is written to the ledger before the call is placed.
 *
 * @param attemptId     globally unique id of this attempt
 * @param campaignId    the campaign it belongs to
 * @param contact       the callee
 * @param attemptNumber 1 for the first attempt of a contact, 2 for its first retry, ...
 * @param region        the AWS Region it is placed in
 * @param fromNumber    the caller id used
 */
public record Attempt(String attemptId, String campaignId, Contact contact, int attemptNumber, String region,
                      String fromNumber) {
    public Attempt {
        Objects.requireNonNull(attemptId, "attemptId");
        Objects.requireNonNull(campaignId, "campaignId");
        Objects.requireNonNull(contact, "contact");
        if (attemptNumber < 1) {
            throw new IllegalArgumentException("attemptNumber must be >= 1, was " + attemptNumber);
        }
    }
}

/**
 * The contact side of the dialing pipeline: from a contact list to contacts that may be called now.
 *
 * <ol>
 *   <li>{@link io.chimedialer.core.contacts.ContactSource#csv} streams a CSV list row by row as
 *       {@link io.chimedialer.core.contacts.ContactRow}s; numbers are normalized to E.164 by
 *       {@link io.chimedialer.core.contacts.PhoneNumbers}; bad rows are rejected with their line and reason.</li>
 *   <li>{@link io.chimedialer.core.contacts.Deduplicator} lets each number through once per campaign.</li>
 *   <li>{@link io.chimedialer.core.contacts.WindowGate} holds contacts until their
 *       {@link io.chimedialer.core.contacts.CallingWindow} opens, or expires them past the campaign's horizon.</li>
 *   <li>{@link io.chimedialer.core.contacts.DncList#contains} is asked right before each dial, so an opt-out
 *       added during the run stops later calls to that number.</li>
 * </ol>
 */
package io.chimedialer.core.contacts;

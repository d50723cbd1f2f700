package io.chimedialer.app.http;

import com.fasterxml.jackson.databind.JsonNode;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The campaign control API behind {@code /v1/campaigns}. Each method returns the JSON to send back, or
 * signals {@link ControlException} with the HTTP status to use.
 */
public interface ControlApi {

    /** {@code POST /v1/campaigns}: starts a campaign from config (or an uploaded contact list). */
    Mono<JsonNode> start(JsonNode request);

    /**
     * {@code POST /v1/campaigns?campaign=NAME} with a {@code text/csv} body: starts a campaign with the list the
     * server wrote to {@code contacts} (under {@link #uploadDirectory()}) as it arrived. The request holds
     * {@code campaign} and, when given, {@code resume}. The file is the caller's to delete when this fails.
     */
    default Mono<JsonNode> startWithList(JsonNode request, java.nio.file.Path contacts) {
        return Mono.error(new ControlException(404, "this node takes no uploaded lists"));
    }

    /** Where uploaded lists are written (kept, so that a restarted node resumes from them). */
    default java.nio.file.Path uploadDirectory() {
        return java.nio.file.Path.of("data", "uploads");
    }

    /** The largest list accepted as an upload, in bytes ({@code server.max-upload-size}). */
    default long maxUploadBytes() {
        return 1L << 30;
    }

    /** {@code GET /v1/campaigns}: every campaign this node knows. */
    Mono<JsonNode> list();

    /** {@code GET /v1/campaigns/{id}}: status and counters. */
    Mono<JsonNode> status(String campaignId);

    /** {@code POST /v1/campaigns/{id}/{action}} with action pause, resume or cancel. */
    Mono<JsonNode> act(String campaignId, String action);

    /**
     * {@code GET /v1/campaigns/{id}/results}: every attempt of the campaign from the ledger (all runs and nodes),
     * as CSV lines (the header first, each line with its CRLF), streamed. Errors (404 for an unknown campaign)
     * before the first line.
     */
    default Mono<Flux<String>> results(String campaignId) {
        return Mono.error(new ControlException(404, "this node serves no results"));
    }

    /**
     * {@code GET /v1/campaigns/{id}/contacts}: each contact's final status from the ledger (every run and node), as
     * CSV lines (the header first, each line with its CRLF; the columns of {@code dialer export --contacts}),
     * streamed. Errors (404 for an unknown campaign) before the first line.
     */
    default Mono<Flux<String>> contacts(String campaignId) {
        return Mono.error(new ControlException(404, "this node serves no contacts"));
    }

    /**
     * {@code GET /v1/campaigns/{id}/opt-outs}: the opt-outs the ledger holds for the DNC lists the campaign honours,
     * as the lines of a DNC list file (comment lines first, then one number per line, sorted, each with its LF), as
     * {@code dialer export --dnc} writes them.
     * Errors (404 for an unknown campaign) before the first line.
     */
    default Mono<Flux<String>> optOuts(String campaignId) {
        return Mono.error(new ControlException(404, "this node serves no opt-outs"));
    }

    /** {@code POST /v1/regions/{region}/rate}: a live change of a Region's calls per second. */
    Mono<JsonNode> setRate(String region, JsonNode request);

    /**
     * {@code GET /v1/cluster}: the live nodes, their claims and Region shares. By default 404: this node runs
     * without clustering.
     */
    default Mono<JsonNode> cluster() {
        return Mono.error(new ControlException(404, "clustering is off on this node (cluster.enabled: false)"));
    }

    /** A control failure that maps to an HTTP status. */
    final class ControlException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int status;

        public ControlException(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }
}

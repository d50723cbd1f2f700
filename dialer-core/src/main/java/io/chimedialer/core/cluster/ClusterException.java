package io.chimedialer.core.cluster;

/** A cluster operation failed: the database is unreachable, or it lacks the cluster schema. */
public class ClusterException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ClusterException(String message) {
        super(message);
    }

    public ClusterException(String message, Throwable cause) {
        super(message, cause);
    }
}

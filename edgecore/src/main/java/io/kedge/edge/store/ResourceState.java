package io.kedge.edge.store;

/**
 * Progress of one resource type: {@code highwater} is the largest resourceVersion the edge knows
 * for it (what a cached LIST reports); {@code trimmedHighwater} the highwater of the newest event
 * dropped from the bounded log (a watch must start above it).
 */
public record ResourceState(Gvr gvr, long highwater, long trimmedHighwater) {}

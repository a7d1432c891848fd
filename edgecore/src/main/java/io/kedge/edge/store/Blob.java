package io.kedge.edge.store;

/** A keyed value the edge keeps besides objects: discovery documents, tokens, metadata. */
public record Blob(String key, String contentType, byte[] value, long updatedMillis) {}

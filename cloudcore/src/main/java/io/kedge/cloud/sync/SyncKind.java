package io.kedge.cloud.sync;

/**
 * A kind the SyncController keeps in step: how it is named in ObjectSyncs ({@code apiVersion},
 * {@code kind}), on the wire ({@code resourceType}) and which module sends it ({@code source}).
 */
public record SyncKind(String apiVersion, String kind, String resourceType, String source) {
  String key() {
    return apiVersion + "/" + kind;
  }
}

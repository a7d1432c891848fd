package io.kedge.edge.edged;

/** The values of {@code KUBERNETES_SERVICE_HOST} and {@code KUBERNETES_SERVICE_PORT(_HTTPS)}. */
public record KubernetesService(String host, String port) {}

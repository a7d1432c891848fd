package io.kedge.cloud.dynamiccontroller;

import io.kedge.controlplane.ControlPlane;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** Reads gauges from the apiserver's {@code /metrics} (admin credentials). */
final class ApiserverMetrics {
  private final ControlPlane plane;
  private final HttpClient http;

  ApiserverMetrics(ControlPlane plane) {
    this.plane = plane;
    this.http = HttpClient.newBuilder().sslContext(plane.adminSslContext()).build();
  }

  /** The value of the sample whose name and labels start with {@code series}, or 0. */
  double value(String series) {
    try {
      String text =
          http.send(
                  HttpRequest.newBuilder(URI.create(plane.apiserverUrl() + "/metrics")).build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      for (String line : text.split("\n")) {
        if (line.startsWith(series + " ")) {
          return Double.parseDouble(line.substring(series.length() + 1).trim());
        }
      }
      return 0;
    } catch (Exception e) {
      throw new IllegalStateException("cannot read the apiserver's metrics", e);
    }
  }

  /** Watchers registered in the apiserver's watch cache for ConfigMaps (anyone's). */
  int configMapWatchers() {
    return (int)
        value("apiserver_registered_watchers{group=\"\",kind=\"ConfigMap\",version=\"v1\"}");
  }

  /** Open cluster-wide (all namespaces) WATCH requests on ConfigMaps. */
  int clusterWideConfigMapWatches() {
    return (int)
        value(
            "apiserver_longrunning_gauge{component=\"apiserver\",group=\"\",resource=\"configmaps\","
                + "scope=\"cluster\",subresource=\"\",verb=\"WATCH\",version=\"v1\"}");
  }
}

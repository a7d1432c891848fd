package io.kedge.testkit;

import io.kedge.controlplane.ControlPlane;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * Reads the control plane's audit log of watch requests ({@link ControlPlane#auditLog()}): which
 * user holds which watch. A watch is open from its {@code RequestReceived} event until its {@code
 * ResponseComplete} (or {@code Panic}) event with the same audit ID; {@code ResponseStarted} is no
 * use here, as the apiserver logs it only with the first byte of the response.
 */
public final class ApiserverAudit {
  /** One watch request as the apiserver saw it. */
  public record Watch(
      String auditId,
      String user,
      String userAgent,
      String resource,
      String namespace,
      String requestUri) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private final Path log;

  public ApiserverAudit(ControlPlane plane) {
    this(plane.auditLog());
  }

  public ApiserverAudit(Path log) {
    this.log = log;
  }

  /** Watches open now, in the order they started. */
  public List<Watch> openWatches() {
    Map<String, Watch> open = new LinkedHashMap<>();
    List<String> lines;
    try {
      lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the audit log " + log, e);
    }
    for (String line : lines) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode e;
      try {
        e = JSON.readTree(line);
      } catch (RuntimeException partial) {
        // the apiserver may be writing this very line
        continue;
      }
      if (!"watch".equals(e.path("verb").asString(""))) {
        continue;
      }
      String id = e.path("auditID").asString("");
      switch (e.path("stage").asString("")) {
        case "RequestReceived" ->
            open.put(
                id,
                new Watch(
                    id,
                    e.path("user").path("username").asString(""),
                    e.path("userAgent").asString(""),
                    e.path("objectRef").path("resource").asString(""),
                    e.path("objectRef").path("namespace").asString(""),
                    e.path("requestURI").asString("")));
        case "ResponseComplete", "Panic" -> open.remove(id);
        default -> {}
      }
    }
    return new ArrayList<>(open.values());
  }

  /** Open watches of {@code user} on {@code resource} (plural, e.g. {@code configmaps}). */
  public List<Watch> openWatches(String user, String resource) {
    return openWatches().stream()
        .filter(w -> w.user().equals(user) && w.resource().equals(resource))
        .toList();
  }
}

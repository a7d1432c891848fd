package io.kedge.cloud.hub;

import io.kedge.protocol.Json;
import io.kedge.testkit.CloudCoreProcess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import tools.jackson.databind.JsonNode;

/**
 * The recorded KubeEdge v1.17.0 session ({@code shared/golden}, gzipped in {@code
 * protocol/src/test/resources/golden/}): one JSON object per line, by seq.
 */
public final class GoldenTrace {
  /** The node name the recording has. */
  public static final String RECORDED_NODE = "edge-node-1";

  private static List<JsonNode> lines;

  private GoldenTrace() {}

  /** All lines, in order (line i has seq i + 1). */
  public static synchronized List<JsonNode> lines() {
    if (lines == null) {
      Path f =
          CloudCoreProcess.kedgeHome()
              .resolve("protocol/src/test/resources/golden/kubeedge-v1.17.0-session.jsonl.gz");
      List<JsonNode> out = new ArrayList<>();
      try (BufferedReader r =
          new BufferedReader(
              new InputStreamReader(
                  new GZIPInputStream(Files.newInputStream(f)), StandardCharsets.UTF_8))) {
        String l;
        while ((l = r.readLine()) != null) {
          out.add(Json.parse(l));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      lines = List.copyOf(out);
    }
    return lines;
  }

  /** The message recorded at {@code seq}. */
  public static JsonNode message(int seq) {
    JsonNode l = lines().get(seq - 1);
    if (l.path("seq").asInt() != seq || !l.has("message")) {
      throw new IllegalArgumentException("seq " + seq + " is not a message");
    }
    return l.get("message");
  }
}

package io.kedge.protocol.message;

import io.kedge.protocol.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import tools.jackson.databind.JsonNode;

/**
 * The recorded KubeEdge v1.17.0 cloudcore ⇄ edgecore WebSocket session (every message both ways,
 * the handshakes and the TCP close), kept in test resources as {@code golden/…jsonl.gz}.
 */
public final class GoldenSession {
  private GoldenSession() {}

  public static final String RESOURCE = "/golden/kubeedge-v1.17.0-session.jsonl.gz";

  /** One line of the trace. */
  public record Line(int seq, String dir, int bytes, int fragments, JsonNode raw) {
    public JsonNode message() {
      return raw.get("message");
    }

    public boolean isMessage() {
      return raw.has("message");
    }

    public boolean edgeToCloud() {
      return "edge->cloud".equals(dir);
    }
  }

  public static List<Line> lines() {
    try (InputStream in = GoldenSession.class.getResourceAsStream(RESOURCE);
        BufferedReader r =
            new BufferedReader(
                new InputStreamReader(new GZIPInputStream(in), StandardCharsets.UTF_8))) {
      List<Line> out = new ArrayList<>();
      String l;
      while ((l = r.readLine()) != null) {
        JsonNode n = Json.parse(l);
        out.add(
            new Line(
                n.path("seq").asInt(),
                n.path("dir").asString(""),
                n.path("bytes").asInt(-1),
                n.path("fragments").asInt(1),
                n));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

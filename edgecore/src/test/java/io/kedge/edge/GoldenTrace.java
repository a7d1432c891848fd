package io.kedge.edge;

import io.kedge.protocol.Json;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageCodec;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;
import tools.jackson.databind.JsonNode;

/**
 * The recorded KubeEdge v1.17.0 session (the repository's gzipped copy of {@code
 * shared/golden/kubeedge-v1.17.0-session.jsonl}), line by line: messages with their seq and
 * direction, and the handshake and tcp-closed events.
 */
public final class GoldenTrace {

  /**
   * One line: a message (with its direction), or an event ({@code handshake}, {@code tcp-closed}).
   */
  public record Line(int seq, int conn, String dir, Message message, JsonNode raw) {
    public boolean fromCloud() {
      return "cloud->edge".equals(dir);
    }

    public boolean fromEdge() {
      return "edge->cloud".equals(dir);
    }

    public boolean isMessage() {
      return message != null;
    }

    public String event() {
      if (raw.has("handshake")) {
        return "handshake";
      }
      return raw.path("event").asString("");
    }

    /** The Application in {@code content_decoded} (Option, ReqBody, RespBody as JSON), or null. */
    public JsonNode decoded() {
      return raw.get("content_decoded");
    }
  }

  private final List<Line> lines;
  private final Map<Integer, Line> bySeq = new TreeMap<>();

  private GoldenTrace(List<Line> lines) {
    this.lines = Collections.unmodifiableList(lines);
    for (Line l : lines) {
      bySeq.put(l.seq(), l);
    }
  }

  /** Loads the trace from the repository (the working directory is a module's). */
  public static GoldenTrace load() {
    Path gz =
        Path.of(System.getProperty("kedge.home", "../"))
            .resolve("protocol/src/test/resources/golden/kubeedge-v1.17.0-session.jsonl.gz");
    List<Line> out = new ArrayList<>();
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(
                new GZIPInputStream(Files.newInputStream(gz)), StandardCharsets.UTF_8))) {
      String text;
      while ((text = r.readLine()) != null) {
        JsonNode n = Json.parse(text);
        Message m = n.has("message") ? MessageCodec.fromTree(n.get("message")) : null;
        out.add(
            new Line(
                n.path("seq").asInt(),
                n.path("conn").asInt(n.path("handshake").path("conn").asInt(0)),
                n.path("dir").asString(""),
                m,
                n));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + gz, e);
    }
    return new GoldenTrace(out);
  }

  public List<Line> lines() {
    return lines;
  }

  public Line seq(int seq) {
    Line l = bySeq.get(seq);
    if (l == null) {
      throw new IllegalArgumentException("no seq " + seq + " in the trace");
    }
    return l;
  }

  public Message message(int seq) {
    return seq(seq).message();
  }

  /** The message's content as JSON (KubeEdge sends objects as JSON text inside the content). */
  public static JsonNode content(Message m) {
    return content(m.content());
  }

  /** {@code c}, parsed when it is JSON text. */
  public static JsonNode content(JsonNode c) {
    if (c != null && c.isString()) {
      try {
        return Json.parse(c.asString());
      } catch (RuntimeException e) {
        return c;
      }
    }
    return c;
  }
}

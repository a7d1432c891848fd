package io.kedge.edge.edgestream;

import io.kedge.protocol.Json;
import java.util.List;
import tools.jackson.databind.node.ObjectNode;

/**
 * The kubelet's remote-command protocol (exec, attach) over SPDY/3.1: the versions Edged speaks and
 * what its error stream carries at the end.
 */
final class RemoteCommand {
  private RemoteCommand() {}

  static final String V4 = "v4.channel.k8s.io";
  static final String V3 = "v3.channel.k8s.io";
  static final String V2 = "v2.channel.k8s.io";

  /** In the kubelet's order of preference. */
  static final List<String> SUPPORTED = List.of(V4, V3, V2);

  static final String PROTOCOL_HEADER = "X-Stream-Protocol-Version";

  /** The first of the client's versions Edged speaks, or null. */
  static String negotiate(List<String> offered) {
    for (String o : offered) {
      for (String p : o.split(",")) {
        if (SUPPORTED.contains(p.strip())) {
          return p.strip();
        }
      }
    }
    return null;
  }

  /**
   * What the error stream carries when the command ended with {@code exitCode}: v4 a {@code Status}
   * (Success, or NonZeroExitCode with the code as cause {@code ExitCode}), older versions an error
   * text (nothing on success).
   */
  static byte[] exitReport(String version, int exitCode) {
    if (!V4.equals(version)) {
      return exitCode == 0
          ? new byte[0]
          : ("command terminated with non-zero exit code: exit code " + exitCode)
              .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
    ObjectNode s = Json.object();
    s.putObject("metadata");
    if (exitCode == 0) {
      s.put("status", "Success");
      return Json.bytes(s);
    }
    s.put("status", "Failure");
    s.put("message", "command terminated with non-zero exit code: exit code " + exitCode);
    s.put("reason", "NonZeroExitCode");
    ObjectNode cause = s.putObject("details").putArray("causes").addObject();
    cause.put("reason", "ExitCode");
    cause.put("message", Integer.toString(exitCode));
    return Json.bytes(s);
  }

  /** An error that ended the command before its exit code was known. */
  static byte[] failure(String version, String message) {
    if (!V4.equals(version)) {
      return message.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
    ObjectNode s = Json.object();
    s.putObject("metadata");
    s.put("status", "Failure");
    s.put("message", message);
    return Json.bytes(s);
  }
}

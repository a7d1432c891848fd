package io.kedge.edge.edged;

import io.kedge.protocol.Json;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A pod's {@code status} from its containers, computed as the kubelet does (phase, the four
 * conditions, container statuses), and the strategic-merge patch that sets it.
 */
final class PodStatusBuilder {
  private PodStatusBuilder() {}

  static final List<String> CONDITIONS =
      List.of("Initialized", "Ready", "ContainersReady", "PodScheduled");

  /** The kubelet's phase rules; a pod being deleted counts as restartPolicy Never. */
  static String phase(Collection<ContainerRecord> app, boolean initDone, String restartPolicy) {
    if (!initDone) {
      return "Pending";
    }
    int running = 0;
    int waiting = 0;
    int stopped = 0;
    int succeeded = 0;
    for (ContainerRecord c : app) {
      if (c.running()) {
        running++;
      } else if (c.terminated()) {
        stopped++;
        if (c.current.exitCode() == 0) {
          succeeded++;
        }
      } else if (c.lastTerminated != null) {
        stopped++; // waiting to restart
      } else {
        waiting++;
      }
    }
    if (waiting > 0) {
      return "Pending";
    }
    if (running > 0) {
      return "Running";
    }
    if (stopped > 0) {
      if ("Always".equals(restartPolicy)) {
        return "Running";
      }
      if ("OnFailure".equals(restartPolicy)) {
        return stopped == succeeded ? "Succeeded" : "Running";
      }
      return stopped == succeeded ? "Succeeded" : "Failed";
    }
    return "Pending";
  }

  /**
   * @param transitions condition type → last transition time, updated here when a status flips
   * @param statuses condition type → last status, updated here
   */
  static ObjectNode status(
      String phase,
      List<ContainerRecord> init,
      List<ContainerRecord> app,
      boolean initDone,
      String hostIP,
      String podIP,
      Instant startTime,
      String message,
      String reason,
      String runtimeName,
      Map<String, Instant> transitions,
      Map<String, String> statuses,
      Instant now) {
    ObjectNode s = Json.object();
    s.put("phase", phase);
    List<String> unready = new ArrayList<>();
    for (ContainerRecord c : app) {
      if (!c.ready()) {
        unready.add(c.name);
      }
    }
    boolean terminal = phase.equals("Succeeded") || phase.equals("Failed");
    ArrayNode conds = s.putArray("conditions");
    for (String type : CONDITIONS) {
      String status;
      String why = null;
      String msg = null;
      switch (type) {
        case "Initialized" -> {
          status = initDone ? "True" : "False";
          if (!initDone) {
            why = "ContainersNotInitialized";
            List<String> pending = new ArrayList<>();
            for (ContainerRecord c : init) {
              if (!c.done) {
                pending.add(c.name);
              }
            }
            msg = "containers with incomplete status: " + pending;
          }
        }
        case "Ready", "ContainersReady" -> {
          if (terminal) {
            status = "False";
            why = phase.equals("Succeeded") ? "PodCompleted" : "PodFailed";
          } else if (unready.isEmpty() && !app.isEmpty()) {
            status = "True";
          } else {
            status = "False";
            why = "ContainersNotReady";
            msg = "containers with unready status: " + unready.toString().replace(",", "");
          }
        }
        default -> status = "True";
      }
      if (!status.equals(statuses.get(type))) {
        statuses.put(type, status);
        transitions.put(type, now);
      }
      ObjectNode c = conds.addObject();
      c.put("type", type);
      c.put("status", status);
      c.putNull("lastProbeTime");
      c.put("lastTransitionTime", time(transitions.getOrDefault(type, now)));
      // Conditions merge by type: clear what no longer applies.
      putOrNull(c, "reason", why);
      putOrNull(c, "message", msg);
    }
    putOrNull(s, "message", message);
    putOrNull(s, "reason", reason);
    s.put("hostIP", hostIP);
    s.put("podIP", podIP);
    s.putArray("podIPs").addObject().put("ip", podIP);
    if (startTime != null) {
      s.put("startTime", time(startTime));
    }
    if (!init.isEmpty()) {
      ArrayNode a = s.putArray("initContainerStatuses");
      for (ContainerRecord c : init) {
        a.add(containerStatus(c, runtimeName));
      }
    }
    ArrayNode a = s.putArray("containerStatuses");
    for (ContainerRecord c : app) {
      a.add(containerStatus(c, runtimeName));
    }
    return s;
  }

  static ObjectNode containerStatus(ContainerRecord c, String runtimeName) {
    ObjectNode o = Json.object();
    o.put("name", c.name);
    ObjectNode state = o.putObject("state");
    if (c.running()) {
      state.putObject("running").put("startedAt", time(c.current.startedAt()));
    } else if (c.terminated()) {
      state.set("terminated", terminated(c.current, runtimeName));
    } else {
      ObjectNode w = state.putObject("waiting");
      w.put("reason", c.waitingReason);
      if (!c.waitingMessage.isEmpty()) {
        w.put("message", c.waitingMessage);
      }
    }
    ObjectNode last = o.putObject("lastState");
    if (c.lastTerminated != null) {
      last.set("terminated", terminated(c.lastTerminated, runtimeName));
    }
    o.put("ready", c.ready());
    o.put("restartCount", c.restartCount);
    o.put("image", c.image);
    o.put("imageID", c.imageId);
    if (c.current != null) {
      o.put("containerID", runtimeName + "://" + c.current.id());
    }
    o.put("started", c.started());
    return o;
  }

  private static ObjectNode terminated(ContainerState st, String runtimeName) {
    ObjectNode t = Json.object();
    t.put("exitCode", st.exitCode());
    t.put("reason", st.reason());
    if (st.message() != null && !st.message().isEmpty()) {
      t.put("message", st.message());
    }
    if (st.startedAt() != null) {
      t.put("startedAt", time(st.startedAt()));
    }
    if (st.finishedAt() != null) {
      t.put("finishedAt", time(st.finishedAt()));
    }
    t.put("containerID", runtimeName + "://" + st.id());
    return t;
  }

  /** {@code {"metadata":{"uid":…},"status":{…}}}, as the kubelet's status manager sends it. */
  static String patch(String uid, ObjectNode status) {
    ObjectNode p = Json.object();
    p.putObject("metadata").put("uid", uid);
    p.set("status", status);
    return Json.string(p);
  }

  static String time(Instant t) {
    return t.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  private static void putOrNull(ObjectNode o, String field, String value) {
    if (value == null || value.isEmpty()) {
      o.putNull(field);
    } else {
      o.put(field, value);
    }
  }
}

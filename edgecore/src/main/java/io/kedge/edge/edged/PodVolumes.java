package io.kedge.edge.edged;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * Prepares a pod's volumes under {@code <podDirectory>/volumes/<name>} — configMap, secret,
 * downwardAPI, projected (service-account token, ConfigMap, Secret, downward API), emptyDir — and
 * resolves hostPath volumes, then turns each container's {@code volumeMounts} into runtime mounts.
 */
final class PodVolumes {
  private PodVolumes() {}

  /** A token a projected volume needs, to fetch before {@link #prepare}. */
  record TokenSource(String key, String audience, long expirationSeconds) {}

  /** Prepared volumes: host paths by volume name, and whether mounts of it are forced read-only. */
  record Prepared(Map<String, Path> paths, Map<String, Boolean> readOnly) {}

  static List<TokenSource> tokenSources(JsonNode pod) {
    List<TokenSource> out = new ArrayList<>();
    for (JsonNode v : pod.path("spec").path("volumes")) {
      for (JsonNode s : v.path("projected").path("sources")) {
        JsonNode t = s.path("serviceAccountToken");
        if (t.isObject()) {
          out.add(
              new TokenSource(
                  v.path("name").asString("") + "/" + t.path("path").asString("token"),
                  t.path("audience").asString(""),
                  t.path("expirationSeconds").asLong(3600)));
        }
      }
    }
    return out;
  }

  static Prepared prepare(JsonNode pod, Path podDirectory, PodInputs inputs, NodeInfo node)
      throws ContainerConfigException {
    Map<String, Path> paths = new LinkedHashMap<>();
    Map<String, Boolean> readOnly = new LinkedHashMap<>();
    long fsGroup = pod.path("spec").path("securityContext").path("fsGroup").asLong(-1);
    Path volumes = PodDirectories.ensure(podDirectory.resolve("volumes"), "rwx--x--x", 0, 0);
    for (JsonNode v : pod.path("spec").path("volumes")) {
      String name = v.path("name").asString("");
      if (name.isEmpty() || name.contains("/") || name.startsWith(".")) {
        throw new ContainerConfigException("invalid volume name \"" + name + "\"");
      }
      Path dir = volumes.resolve(name);
      try {
        if (v.has("emptyDir")) {
          PodDirectories.ensure(dir, "rwxrwxrwx", 0, fsGroup);
          paths.put(name, dir);
          readOnly.put(name, false);
        } else if (v.has("hostPath")) {
          paths.put(name, hostPath(name, v.path("hostPath")));
          readOnly.put(name, false);
        } else if (v.has("configMap")
            || v.has("secret")
            || v.has("downwardAPI")
            || v.has("projected")) {
          PodDirectories.ensure(dir, "rwxr-xr-x", 0, fsGroup);
          VolumeWriter.write(dir, files(pod, name, v, inputs, node), fsGroup);
          paths.put(name, dir);
          readOnly.put(name, true);
        } else {
          String type = "unknown";
          for (String f : v.propertyNames()) {
            if (!f.equals("name")) {
              type = f;
            }
          }
          throw new ContainerConfigException(
              "volume \"" + name + "\": " + type + " volumes are not supported on this edge node");
        }
      } catch (IOException e) {
        throw new ContainerConfigException(
            "MountVolume.SetUp failed for volume \"" + name + "\" : " + e.getMessage());
      }
    }
    return new Prepared(paths, readOnly);
  }

  private static Path hostPath(String name, JsonNode hp)
      throws ContainerConfigException, IOException {
    String p = hp.path("path").asString("");
    if (!p.startsWith("/")) {
      throw new ContainerConfigException("volume \"" + name + "\": hostPath must be absolute");
    }
    Path path = Path.of(p);
    String type = hp.path("type").asString("");
    switch (type) {
      case "DirectoryOrCreate" -> Files.createDirectories(path);
      case "FileOrCreate" -> {
        Files.createDirectories(path.getParent());
        if (!Files.exists(path)) {
          Files.createFile(path);
        }
      }
      case "Directory" -> {
        if (!Files.isDirectory(path)) {
          throw new ContainerConfigException(
              "MountVolume.SetUp failed for volume \""
                  + name
                  + "\" : hostPath type check failed: "
                  + p
                  + " is not a directory");
        }
      }
      case "File" -> {
        if (!Files.isRegularFile(path)) {
          throw new ContainerConfigException(
              "MountVolume.SetUp failed for volume \""
                  + name
                  + "\" : hostPath type check failed: "
                  + p
                  + " is not a file");
        }
      }
      default -> {
        if (!Files.exists(path)) {
          Files.createDirectories(path); // as the kubelet does for an untyped hostPath in practice
        }
      }
    }
    return path;
  }

  private static Map<String, VolumeWriter.FileContent> files(
      JsonNode pod, String volume, JsonNode v, PodInputs inputs, NodeInfo node)
      throws ContainerConfigException {
    Map<String, VolumeWriter.FileContent> out = new LinkedHashMap<>();
    String ns = pod.path("metadata").path("namespace").asString("");
    if (v.has("configMap")) {
      JsonNode src = v.path("configMap");
      int mode = src.path("defaultMode").asInt(0644);
      String name = src.path("name").asString("");
      Optional<JsonNode> cm = inputs.configMap(name);
      if (cm.isEmpty()) {
        if (!src.path("optional").asBoolean(false)) {
          throw new ContainerConfigException(
              "MountVolume.SetUp failed for volume \""
                  + volume
                  + "\" : configmap \""
                  + name
                  + "\" not found");
        }
      } else {
        keyed(
            out,
            volume,
            "ConfigMap",
            ns + "/" + name,
            rawData(cm.get(), false),
            src.path("items"),
            mode,
            src.path("optional").asBoolean(false));
      }
    } else if (v.has("secret")) {
      JsonNode src = v.path("secret");
      int mode = src.path("defaultMode").asInt(0644);
      String name = src.path("secretName").asString("");
      Optional<JsonNode> s = inputs.secret(name);
      if (s.isEmpty()) {
        if (!src.path("optional").asBoolean(false)) {
          throw new ContainerConfigException(
              "MountVolume.SetUp failed for volume \""
                  + volume
                  + "\" : secret \""
                  + name
                  + "\" not found");
        }
      } else {
        keyed(
            out,
            volume,
            "Secret",
            ns + "/" + name,
            rawData(s.get(), true),
            src.path("items"),
            mode,
            src.path("optional").asBoolean(false));
      }
    } else if (v.has("downwardAPI")) {
      JsonNode src = v.path("downwardAPI");
      downward(out, pod, src.path("items"), src.path("defaultMode").asInt(0644), node);
    } else {
      JsonNode projected = v.path("projected");
      int mode = projected.path("defaultMode").asInt(0644);
      for (JsonNode s : projected.path("sources")) {
        if (s.has("serviceAccountToken")) {
          JsonNode t = s.path("serviceAccountToken");
          String path = t.path("path").asString("token");
          ServiceAccountTokens.Token tok = inputs.tokens.get(volume + "/" + path);
          if (tok == null) {
            // Not a mistake in the spec: the apiserver's node authorizer may not know the pod yet,
            // or the cloud is away. The container stays "ContainerCreating" until it comes.
            throw new ContainerConfigException(
                ContainerConfigException.NOT_READY,
                "MountVolume.SetUp failed for volume \""
                    + volume
                    + "\" : no service account token for "
                    + ns
                    + "/"
                    + pod.path("spec").path("serviceAccountName").asString("default")
                    + " yet");
          }
          out.put(
              path,
              new VolumeWriter.FileContent(tok.token().getBytes(StandardCharsets.UTF_8), mode));
        } else if (s.has("configMap")) {
          JsonNode src = s.path("configMap");
          String name = src.path("name").asString("");
          Optional<JsonNode> cm = inputs.configMap(name);
          if (cm.isEmpty()) {
            if (!src.path("optional").asBoolean(false)) {
              throw new ContainerConfigException(
                  "MountVolume.SetUp failed for volume \""
                      + volume
                      + "\" : configmap \""
                      + name
                      + "\" not found");
            }
          } else {
            keyed(
                out,
                volume,
                "ConfigMap",
                ns + "/" + name,
                rawData(cm.get(), false),
                src.path("items"),
                mode,
                src.path("optional").asBoolean(false));
          }
        } else if (s.has("secret")) {
          JsonNode src = s.path("secret");
          String name = src.path("name").asString("");
          Optional<JsonNode> sec = inputs.secret(name);
          if (sec.isEmpty()) {
            if (!src.path("optional").asBoolean(false)) {
              throw new ContainerConfigException(
                  "MountVolume.SetUp failed for volume \""
                      + volume
                      + "\" : secret \""
                      + name
                      + "\" not found");
            }
          } else {
            keyed(
                out,
                volume,
                "Secret",
                ns + "/" + name,
                rawData(sec.get(), true),
                src.path("items"),
                mode,
                src.path("optional").asBoolean(false));
          }
        } else if (s.has("downwardAPI")) {
          downward(out, pod, s.path("downwardAPI").path("items"), mode, node);
        } else {
          throw new ContainerConfigException(
              "volume \"" + volume + "\": unsupported projected source " + s.propertyNames());
        }
      }
    }
    return out;
  }

  private static void keyed(
      Map<String, VolumeWriter.FileContent> out,
      String volume,
      String kind,
      String object,
      Map<String, byte[]> data,
      JsonNode items,
      int defaultMode,
      boolean optional)
      throws ContainerConfigException {
    if (items.isArray() && !items.isEmpty()) {
      for (JsonNode item : items) {
        String key = item.path("key").asString("");
        byte[] d = data.get(key);
        if (d == null) {
          if (optional) {
            continue;
          }
          throw new ContainerConfigException(
              "MountVolume.SetUp failed for volume \""
                  + volume
                  + "\" : configured to use key "
                  + key
                  + " of "
                  + kind
                  + " "
                  + object
                  + ", which does not exist");
        }
        out.put(
            item.path("path").asString(key),
            new VolumeWriter.FileContent(d, item.path("mode").asInt(defaultMode)));
      }
    } else {
      for (Map.Entry<String, byte[]> e : data.entrySet()) {
        out.put(e.getKey(), new VolumeWriter.FileContent(e.getValue(), defaultMode));
      }
    }
  }

  private static void downward(
      Map<String, VolumeWriter.FileContent> out,
      JsonNode pod,
      JsonNode items,
      int defaultMode,
      NodeInfo node)
      throws ContainerConfigException {
    for (JsonNode item : items) {
      String value;
      if (item.has("fieldRef")) {
        value =
            ContainerEnvironment.fieldValue(
                pod, item.path("fieldRef").path("fieldPath").asString(""), node);
      } else if (item.has("resourceFieldRef")) {
        value =
            ContainerEnvironment.resourceValue(
                pod,
                pod.path("spec").path("containers").path(0),
                item.path("resourceFieldRef"),
                node,
                "");
      } else {
        continue;
      }
      out.put(
          item.path("path").asString(""),
          new VolumeWriter.FileContent(
              value.getBytes(StandardCharsets.UTF_8), item.path("mode").asInt(defaultMode)));
    }
  }

  private static Map<String, byte[]> rawData(JsonNode obj, boolean base64Data) {
    Map<String, byte[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : obj.path("data").properties()) {
      String s = e.getValue().asString("");
      out.put(
          e.getKey(),
          base64Data ? ContainerEnvironment.decode(s) : s.getBytes(StandardCharsets.UTF_8));
    }
    if (!base64Data) {
      for (Map.Entry<String, JsonNode> e : obj.path("binaryData").properties()) {
        out.put(e.getKey(), ContainerEnvironment.decode(e.getValue().asString("")));
      }
    }
    return out;
  }

  /** The runtime mounts of one container. */
  static List<ContainerConfig.Mount> mounts(JsonNode container, Prepared volumes)
      throws ContainerConfigException {
    List<ContainerConfig.Mount> out = new ArrayList<>();
    for (JsonNode m : container.path("volumeMounts")) {
      String name = m.path("name").asString("");
      Path src = volumes.paths().get(name);
      if (src == null) {
        throw new ContainerConfigException(
            "container "
                + container.path("name").asString("")
                + " mounts unknown volume \""
                + name
                + "\"");
      }
      String sub = m.path("subPath").asString("");
      if (!sub.isEmpty()) {
        Path rel = Path.of(sub).normalize();
        if (rel.isAbsolute() || rel.startsWith("..")) {
          throw new ContainerConfigException(
              "subPath \"" + sub + "\" must be a relative path inside the volume");
        }
        src = src.resolve(rel);
        if (!Files.exists(src)) {
          try {
            Files.createDirectories(src); // as the kubelet does for a missing subPath
          } catch (IOException e) {
            throw new ContainerConfigException(
                "cannot create subPath " + sub + ": " + e.getMessage());
          }
        }
      }
      boolean ro =
          m.path("readOnly").asBoolean(false) || volumes.readOnly().getOrDefault(name, false);
      out.add(new ContainerConfig.Mount(src, m.path("mountPath").asString(""), ro));
    }
    return out;
  }
}

package io.kedge.edge.edged;

import io.kedge.protocol.Json;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * Registry credentials as the kubelet's Docker keyring finds them: entries of the pod's {@code
 * imagePullSecrets} (types {@code kubernetes.io/dockerconfigjson} and {@code
 * kubernetes.io/dockercfg}), then the node's own Docker config files. An entry's key ({@code
 * registry.example:5000}, {@code https://registry.example/v1/}, {@code *.example.com/team}) matches
 * an image whose registry host matches (globs per label) and whose repository starts with the key's
 * path; the more specific keys come first.
 */
final class RegistryCredentials {
  private static final Logger log = LoggerFactory.getLogger(RegistryCredentials.class);

  /** One entry of a Docker config. */
  record Entry(String key, PodRuntime.RegistryAuth auth) {}

  private RegistryCredentials() {}

  /**
   * The node's Docker config files, in the kubelet's order (its root directory, then the home
   * directory's, then {@code /.docker}): {@code config.json}, then the legacy {@code .dockercfg}.
   */
  static List<Path> nodeFiles(Path edgedRoot) {
    Path base = edgedRoot.toAbsolutePath().getParent();
    String home = System.getProperty("user.home", "/root");
    List<Path> out = new ArrayList<>();
    if (base != null) {
      out.add(base.resolve("config.json"));
    }
    out.add(Path.of(home, ".docker", "config.json"));
    out.add(Path.of("/.docker/config.json"));
    if (base != null) {
      out.add(base.resolve(".dockercfg"));
    }
    out.add(Path.of(home, ".dockercfg"));
    out.add(Path.of("/.dockercfg"));
    return out;
  }

  /** The entries of the first node file that exists and parses. */
  static List<Entry> fromNodeFiles(List<Path> files) {
    for (Path f : files) {
      if (!Files.isRegularFile(f)) {
        continue;
      }
      try {
        JsonNode j = Json.parse(Files.readAllBytes(f));
        return f.getFileName().toString().equals(".dockercfg") ? entries(j) : dockerConfig(j);
      } catch (IOException | RuntimeException e) {
        log.warn("cannot read registry credentials from {}: {}", f, e.toString());
      }
    }
    return List.of();
  }

  /** The entries of one {@code imagePullSecrets} Secret; empty (with a reason) when unusable. */
  static List<Entry> fromSecret(JsonNode secret) throws IllegalArgumentException {
    String type = secret.path("type").asString("");
    JsonNode data = secret.path("data");
    if (type.equals("kubernetes.io/dockerconfigjson") || data.has(".dockerconfigjson")) {
      return dockerConfig(Json.parse(decode(data.path(".dockerconfigjson").asString(""))));
    }
    if (type.equals("kubernetes.io/dockercfg") || data.has(".dockercfg")) {
      return entries(Json.parse(decode(data.path(".dockercfg").asString(""))));
    }
    throw new IllegalArgumentException(
        "secret "
            + secret.path("metadata").path("name").asString("")
            + " is not of type kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg");
  }

  private static byte[] decode(String b64) {
    return Base64.getMimeDecoder().decode(b64);
  }

  /** {@code {"auths": {KEY: {...}}}} */
  static List<Entry> dockerConfig(JsonNode config) {
    return entries(config.path("auths"));
  }

  /** {@code {KEY: {"username","password","auth","email","identitytoken","registrytoken"}}} */
  static List<Entry> entries(JsonNode auths) {
    List<Entry> out = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : auths.properties()) {
      JsonNode a = e.getValue();
      String user = a.path("username").asString("");
      String pass = a.path("password").asString("");
      String auth = a.path("auth").asString("");
      if (user.isEmpty() && !auth.isEmpty()) {
        // "auth" is base64 of user:password; CRI takes either form, the split one is clearer
        String plain = new String(decode(auth), StandardCharsets.UTF_8);
        int colon = plain.indexOf(':');
        if (colon > 0) {
          user = plain.substring(0, colon);
          pass = plain.substring(colon + 1);
          auth = "";
        }
      }
      out.add(
          new Entry(
              e.getKey(),
              new PodRuntime.RegistryAuth(
                  user,
                  pass,
                  auth,
                  e.getKey(),
                  a.path("identitytoken").asString(""),
                  a.path("registrytoken").asString(""))));
    }
    return out;
  }

  /**
   * The credentials to try for {@code image}, pod entries before node entries, the more specific
   * keys first within each.
   */
  static List<PodRuntime.RegistryAuth> lookup(String image, List<Entry> pod, List<Entry> node) {
    ImageName name = ImageName.parse(image);
    List<PodRuntime.RegistryAuth> out = new ArrayList<>();
    for (List<Entry> source : List.of(pod, node)) {
      source.stream()
          .filter(e -> matches(e.key(), name))
          .sorted(Comparator.comparing((Entry e) -> normalizedKey(e.key())).reversed())
          .forEach(e -> out.add(e.auth()));
    }
    return out;
  }

  private static String normalizedKey(String key) {
    String k = key;
    if (!k.contains("://")) {
      k = "https://" + k;
    }
    try {
      URI u = URI.create(k);
      String path = u.getPath() == null ? "" : u.getPath();
      return u.getAuthority() + path;
    } catch (IllegalArgumentException e) {
      return key;
    }
  }

  static boolean matches(String key, ImageName image) {
    String k = normalizedKey(key);
    int slash = k.indexOf('/');
    String keyHost = slash < 0 ? k : k.substring(0, slash);
    String keyPath = slash < 0 ? "" : k.substring(slash + 1);
    if (keyPath.equals("v1/") || keyPath.equals("v1") || keyPath.equals("v2/")) {
      keyPath = ""; // https://index.docker.io/v1/ names the registry, not a repository
    }
    if (keyPath.endsWith("/")) {
      keyPath = keyPath.substring(0, keyPath.length() - 1);
    }
    List<String> hosts =
        image.registry().equals("docker.io")
            ? List.of("docker.io", "index.docker.io", "registry-1.docker.io")
            : List.of(image.registry());
    boolean hostMatch = hosts.stream().anyMatch(h -> hostMatches(keyHost, h));
    if (!hostMatch) {
      return false;
    }
    return keyPath.isEmpty()
        || image.repository().equals(keyPath)
        || image.repository().startsWith(keyPath + "/");
  }

  /** Host (with port) against a key host whose labels may be globs ({@code *.example.com}). */
  private static boolean hostMatches(String pattern, String host) {
    String[] p = pattern.toLowerCase().split(":", 2);
    String[] h = host.toLowerCase().split(":", 2);
    if (p.length != h.length || (p.length == 2 && !p[1].equals(h[1]))) {
      return false;
    }
    String[] pl = p[0].split("\\.");
    String[] hl = h[0].split("\\.");
    if (pl.length != hl.length) {
      return false;
    }
    for (int i = 0; i < pl.length; i++) {
      String re = Pattern.quote(pl[i]).replace("*", "\\E[^.]*\\Q");
      if (!hl[i].matches(re)) {
        return false;
      }
    }
    return true;
  }

  /**
   * An image reference split as Docker normalizes it: {@code busybox} is {@code
   * docker.io/library/busybox}; a first component with a dot or a port, or {@code localhost}, is a
   * registry.
   */
  record ImageName(String registry, String repository, String tag, String digest) {
    static ImageName parse(String image) {
      String rest = image;
      String digest = "";
      int at = rest.indexOf('@');
      if (at >= 0) {
        digest = rest.substring(at + 1);
        rest = rest.substring(0, at);
      }
      String tag = "";
      int lastSlash = rest.lastIndexOf('/');
      int colon = rest.lastIndexOf(':');
      if (colon > lastSlash) {
        tag = rest.substring(colon + 1);
        rest = rest.substring(0, colon);
      }
      String registry = "docker.io";
      int slash = rest.indexOf('/');
      if (slash > 0) {
        String first = rest.substring(0, slash);
        if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
          registry = first;
          rest = rest.substring(slash + 1);
        }
      }
      if (registry.equals("docker.io") && !rest.contains("/")) {
        rest = "library/" + rest;
      }
      return new ImageName(registry, rest, tag, digest);
    }

    /**
     * The kubelet's default pull policy: Always for {@code :latest} or no tag, else IfNotPresent.
     */
    String defaultPullPolicy() {
      return digest.isEmpty() && (tag.isEmpty() || tag.equals("latest"))
          ? "Always"
          : "IfNotPresent";
    }
  }
}

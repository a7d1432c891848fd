package io.kedge.protocol.config;

import io.kedge.protocol.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The one place configuration is read: defaults (a YAML resource) ← the file ← {@code --set}
 * overrides, then mapped to an immutable record. Maps merge key by key, lists and scalars replace,
 * as KubeEdge's loader does. Keys Kedge does not know are kept out of the record and reported as
 * warnings (KubeEdge files carry many settings for modules Kedge does not have).
 */
public final class ConfigLoader {
  private ConfigLoader() {}

  public static final YAMLMapper YAML = YAMLMapper.builder().build();

  /** A loaded configuration, the merged tree it came from, and what was worth a warning. */
  public record Loaded<T>(T config, ObjectNode tree, List<String> warnings) {}

  public static <T> Loaded<T> load(
      Class<T> type, String defaultsResource, Path file, List<String> sets) {
    ObjectNode tree = defaults(defaultsResource);
    List<String> warnings = new ArrayList<>();
    if (file != null) {
      JsonNode user = readYaml(file);
      if (user != null && !user.isNull() && !user.isMissingNode()) {
        if (!user.isObject()) {
          throw new ConfigException(file + ": the top level must be a map");
        }
        unknownKeys(tree, user, "", warnings);
        merge(tree, (ObjectNode) user);
      }
    }
    for (String s : sets == null ? List.<String>of() : sets) {
      for (ConfigOverrides.Override o : ConfigOverrides.parse(s)) {
        ConfigOverrides.apply(tree, o);
      }
    }
    return new Loaded<>(toRecord(type, tree, file), tree, warnings);
  }

  public static <T> T toRecord(Class<T> type, ObjectNode tree, Path file) {
    try {
      return Json.MAPPER.treeToValue(tree, type);
    } catch (JacksonException e) {
      throw new ConfigException(
          (file == null ? "configuration" : file.toString()) + ": " + e.getOriginalMessage(), e);
    }
  }

  public static ObjectNode defaults(String resource) {
    try (InputStream in = ConfigLoader.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + resource);
      }
      return (ObjectNode) YAML.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static String defaultsText(String resource) {
    try (InputStream in = ConfigLoader.class.getResourceAsStream(resource)) {
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static JsonNode readYaml(Path file) {
    try {
      return YAML.readTree(Files.readString(file));
    } catch (NoSuchFileException e) {
      throw new ConfigException("config file " + file + " does not exist");
    } catch (IOException e) {
      throw new ConfigException("cannot read config file " + file + ": " + e.getMessage(), e);
    } catch (JacksonException e) {
      throw new ConfigException(file + " is not valid YAML: " + e.getOriginalMessage(), e);
    }
  }

  /** Deep merge: maps key by key, everything else replaced. */
  public static void merge(ObjectNode base, ObjectNode over) {
    for (Map.Entry<String, JsonNode> e : over.properties()) {
      JsonNode cur = base.get(e.getKey());
      if (cur instanceof ObjectNode co && e.getValue() instanceof ObjectNode eo) {
        merge(co, eo);
      } else {
        base.set(e.getKey(), e.getValue());
      }
    }
  }

  private static void unknownKeys(JsonNode known, JsonNode user, String prefix, List<String> out) {
    if (!known.isObject() || !user.isObject()) {
      return;
    }
    Iterator<Map.Entry<String, JsonNode>> it = user.properties().iterator();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
      JsonNode k = known.get(e.getKey());
      if (k == null) {
        out.add("unknown setting '" + path + "' is ignored");
      } else {
        unknownKeys(k, e.getValue(), path, out);
      }
    }
  }

  /** YAML text of a tree (for --defaultconfig, keadm, ConfigMaps). */
  public static String toYaml(JsonNode tree) {
    return YAML.writeValueAsString(tree);
  }
}

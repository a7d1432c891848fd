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
import tools.jackson.core.JsonParser;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLFactory;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The one place configuration is read: defaults (a YAML resource) ← the file ← {@code --set}
 * overrides, then mapped to an immutable record. Maps merge key by key, lists and scalars replace,
 * as KubeEdge's loader does. Keys Kedge does not know are kept out of the record and reported as
 * warnings (KubeEdge files carry many settings for modules Kedge does not have).
 */
public final class ConfigLoader {
  private ConfigLoader() {}

  private static final YAMLFactory YAML_FACTORY = YAMLFactory.builder().build();

  private static final class Yaml {
    static final YAMLMapper MAPPER = YAMLMapper.builder(YAML_FACTORY).build();
  }

  /** The YAML mapper (for writing YAML), created on first use. */
  public static YAMLMapper yamlMapper() {
    return Yaml.MAPPER;
  }

  /**
   * The tree of a YAML document ({@code MissingNode} for an empty one), read as the YAML mapper's
   * {@code readTree} reads it.
   *
   * @throws JacksonException when the text is not YAML
   */
  public static JsonNode parseYaml(String text) {
    try (JsonParser p = YAML_FACTORY.createParser(ObjectReadContext.empty(), text)) {
      return Json.readValue(p);
    }
  }

  private static JsonNode parseYaml(InputStream in) {
    try (JsonParser p = YAML_FACTORY.createParser(ObjectReadContext.empty(), in)) {
      return Json.readValue(p);
    }
  }

  /** A loaded configuration, the merged tree it came from, and what was worth a warning. */
  public record Loaded<T>(T config, ObjectNode tree, List<String> warnings) {}

  /**
   * A key path that users write although the real one is elsewhere (e.g. KubeEdge's documentation
   * writes {@code modules.metaServer} for {@code modules.metaManager.metaServer}): values found at
   * {@code from} are read as if written at {@code to}, with a warning.
   */
  public record Alias(List<String> from, List<String> to) {
    public Alias {
      from = List.copyOf(from);
      to = List.copyOf(to);
    }

    String fromText() {
      return String.join(".", from);
    }

    String toText() {
      return String.join(".", to);
    }
  }

  public static <T> Loaded<T> load(
      Class<T> type, String defaultsResource, Path file, List<String> sets) {
    return load(type, defaultsResource, file, sets, List.of());
  }

  public static <T> Loaded<T> load(
      Class<T> type, String defaultsResource, Path file, List<String> sets, List<Alias> aliases) {
    JsonNode user = file == null ? null : readYaml(file);
    return load(type, defaultsResource, user, file == null ? null : file.toString(), sets, aliases);
  }

  /**
   * Like {@link #load(Class, String, Path, List, List)} for YAML text that is not a file (e.g. the
   * {@code cloudcore.yaml} key of a ConfigMap); {@code source} names it in messages.
   */
  public static <T> Loaded<T> loadText(
      Class<T> type,
      String defaultsResource,
      String yaml,
      String source,
      List<String> sets,
      List<Alias> aliases) {
    JsonNode user;
    try {
      user = parseYaml(yaml == null ? "" : yaml);
    } catch (JacksonException e) {
      throw new ConfigException(source + " is not valid YAML: " + e.getOriginalMessage(), e);
    }
    return load(type, defaultsResource, user, source, sets, aliases);
  }

  private static <T> Loaded<T> load(
      Class<T> type,
      String defaultsResource,
      JsonNode user,
      String source,
      List<String> sets,
      List<Alias> aliases) {
    ObjectNode tree = defaults(defaultsResource);
    List<String> warnings = new ArrayList<>();
    if (user != null && !user.isNull() && !user.isMissingNode()) {
      if (!user.isObject()) {
        throw new ConfigException(source + ": the top level must be a map");
      }
      for (Alias a : aliases) {
        applyAlias((ObjectNode) user, a, warnings);
      }
      unknownKeys(tree, user, "", warnings);
      merge(tree, (ObjectNode) user);
    }
    for (String s : sets == null ? List.<String>of() : sets) {
      for (ConfigOverrides.Override o : ConfigOverrides.parse(s)) {
        ConfigOverrides.apply(tree, aliased(o, aliases, warnings));
      }
    }
    return new Loaded<>(
        toRecord(type, tree, source == null ? null : Path.of(source)), tree, warnings);
  }

  private static void applyAlias(ObjectNode user, Alias a, List<String> warnings) {
    ObjectNode parent = user;
    for (int i = 0; i < a.from().size() - 1; i++) {
      if (!(parent.get(a.from().get(i)) instanceof ObjectNode next)) {
        return;
      }
      parent = next;
    }
    String last = a.from().get(a.from().size() - 1);
    JsonNode moved = parent.get(last);
    if (moved == null) {
      return;
    }
    parent.remove(last);
    ObjectNode target = user;
    for (int i = 0; i < a.to().size() - 1; i++) {
      JsonNode next = target.get(a.to().get(i));
      if (!(next instanceof ObjectNode)) {
        next = target.putObject(a.to().get(i));
      }
      target = (ObjectNode) next;
    }
    String key = a.to().get(a.to().size() - 1);
    if (target.get(key) instanceof ObjectNode existing && moved instanceof ObjectNode m) {
      merge(existing, m); // what the user wrote under the alias wins
    } else {
      target.set(key, moved);
    }
    warnings.add("'" + a.fromText() + "' is not a key of its own; read as '" + a.toText() + "'");
  }

  private static ConfigOverrides.Override aliased(
      ConfigOverrides.Override o, List<Alias> aliases, List<String> warnings) {
    for (Alias a : aliases) {
      List<Object> p = o.path();
      if (p.size() >= a.from().size() && p.subList(0, a.from().size()).equals(a.from())) {
        List<Object> real = new ArrayList<>(a.to());
        real.addAll(p.subList(a.from().size(), p.size()));
        warnings.add("--set " + o.text() + ": '" + a.fromText() + "' read as '" + a.toText() + "'");
        return new ConfigOverrides.Override(real, o.value(), o.text());
      }
    }
    return o;
  }

  public static <T> T toRecord(Class<T> type, ObjectNode tree, Path file) {
    try {
      return type.cast(RecordReader.read(type, tree, ""));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(
          (file == null ? "configuration" : file.toString()) + ": " + e.getMessage(), e);
    }
  }

  public static ObjectNode defaults(String resource) {
    try (InputStream in = ConfigLoader.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + resource);
      }
      return (ObjectNode) parseYaml(in);
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
      return parseYaml(Files.readString(file));
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
    return yamlMapper().writeValueAsString(tree);
  }
}

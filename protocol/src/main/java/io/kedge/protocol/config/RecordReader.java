package io.kedge.protocol.config;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * Reads a configuration tree into its records, key by component name: strings, booleans, integers,
 * lists, string-keyed maps, nested records and JSON trees. Keys no component has are left (the
 * loader warns about them); absent values give null, {@code false} or 0, null gives null where the
 * type has it and fails where it does not (an int). Scalars convert as YAML writers expect ({@code
 * "8080"} for an int, {@code 8080} for a string, {@code "true"} for a boolean); anything else fails
 * naming the key.
 *
 * <p>(Configuration used to be bound by Jackson's object mapper; this does the same for these types
 * without its several hundred classes, which stayed resident in every edgecore.)
 */
final class RecordReader {
  private RecordReader() {}

  /** The value of type {@code type} at {@code path} (for messages) read from {@code n}. */
  static Object read(Type type, JsonNode n, String path) {
    Class<?> raw = raw(type);
    if (n == null || n.isMissingNode()) {
      return zero(raw);
    }
    if (n.isNull()) {
      if (raw.isPrimitive()) {
        throw wrong(path, raw == boolean.class ? "true or false" : "a number", n);
      }
      return null;
    }
    if (raw == JsonNode.class) {
      return n;
    }
    if (raw == String.class) {
      if (n.isString() || n.isNumber() || n.isBoolean()) {
        return n.asString();
      }
      throw wrong(path, "a string", n);
    }
    if (raw == boolean.class || raw == Boolean.class) {
      if (n.isBoolean()) {
        return n.booleanValue();
      }
      if (n.isString() && (n.stringValue().equals("true") || n.stringValue().equals("false"))) {
        return Boolean.parseBoolean(n.stringValue());
      }
      throw wrong(path, "true or false", n);
    }
    if (raw == int.class || raw == Integer.class) {
      long v = integer(n, path);
      if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
        throw wrong(path, "an integer of at most 32 bits", n);
      }
      return (int) v;
    }
    if (raw == long.class || raw == Long.class) {
      return integer(n, path);
    }
    if (raw == double.class || raw == Double.class) {
      if (n.isNumber()) {
        return n.doubleValue();
      }
      if (n.isString()) {
        try {
          return Double.parseDouble(n.stringValue().strip());
        } catch (NumberFormatException e) {
          // below
        }
      }
      throw wrong(path, "a number", n);
    }
    if (raw.isEnum()) {
      if (n.isString()) {
        for (Object c : raw.getEnumConstants()) {
          if (((Enum<?>) c).name().equals(n.stringValue())) {
            return c;
          }
        }
      }
      throw wrong(path, "one of " + List.of(raw.getEnumConstants()), n);
    }
    if (raw == List.class) {
      if (!n.isArray()) {
        throw wrong(path, "a list", n);
      }
      Type element = argument(type, 0, path);
      List<Object> out = new ArrayList<>(n.size());
      int i = 0;
      for (JsonNode e : n.values()) {
        out.add(read(element, e, path + "[" + i++ + "]"));
      }
      return Collections.unmodifiableList(out);
    }
    if (raw == Map.class) {
      if (!n.isObject()) {
        throw wrong(path, "a map", n);
      }
      if (argument(type, 0, path) != String.class) {
        throw new IllegalStateException(path + ": only maps with string keys are read");
      }
      Type value = argument(type, 1, path);
      Map<String, Object> out = new LinkedHashMap<>();
      for (Map.Entry<String, JsonNode> e : n.properties()) {
        out.put(e.getKey(), read(value, e.getValue(), join(path, e.getKey())));
      }
      return Collections.unmodifiableMap(out);
    }
    if (raw.isRecord()) {
      if (!n.isObject()) {
        throw wrong(path, "a map", n);
      }
      return record(raw, n, path);
    }
    throw new IllegalStateException(path + ": cannot read a " + type.getTypeName());
  }

  private static Object record(Class<?> type, JsonNode n, String path) {
    RecordComponent[] components = type.getRecordComponents();
    Class<?>[] types = new Class<?>[components.length];
    Object[] values = new Object[components.length];
    for (int i = 0; i < components.length; i++) {
      RecordComponent c = components[i];
      types[i] = c.getType();
      values[i] = read(c.getGenericType(), n.get(c.getName()), join(path, c.getName()));
    }
    try {
      Constructor<?> ctor = type.getDeclaredConstructor(types);
      ctor.setAccessible(true);
      return ctor.newInstance(values);
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(cause);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot create " + type.getName(), e);
    }
  }

  private static long integer(JsonNode n, String path) {
    if (n.isIntegralNumber() && n.canConvertToLong()) {
      return n.longValue();
    }
    if (n.isString()) {
      try {
        return Long.parseLong(n.stringValue().strip());
      } catch (NumberFormatException e) {
        // below
      }
    }
    throw wrong(path, "an integer", n);
  }

  private static Object zero(Class<?> raw) {
    if (raw == boolean.class) {
      return false;
    }
    if (raw == int.class) {
      return 0;
    }
    if (raw == long.class) {
      return 0L;
    }
    if (raw == double.class) {
      return 0.0;
    }
    return null;
  }

  private static Class<?> raw(Type t) {
    if (t instanceof Class<?> c) {
      return c;
    }
    if (t instanceof ParameterizedType p) {
      return (Class<?>) p.getRawType();
    }
    throw new IllegalStateException("cannot read a " + t.getTypeName());
  }

  private static Type argument(Type t, int i, String path) {
    if (t instanceof ParameterizedType p) {
      return p.getActualTypeArguments()[i];
    }
    throw new IllegalStateException(path + ": a raw " + t.getTypeName() + " cannot be read");
  }

  private static String join(String path, String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  private static IllegalArgumentException wrong(String path, String expected, JsonNode n) {
    String shown;
    if (n.isString()) {
      shown = "'" + n.stringValue() + "'";
    } else if (n.isObject()) {
      shown = "a map";
    } else if (n.isArray()) {
      shown = "a list";
    } else if (n.isNull()) {
      shown = "null";
    } else {
      shown = n.asString();
    }
    return new IllegalArgumentException(
        (path.isEmpty() ? "the configuration" : path) + " must be " + expected + ", not " + shown);
  }
}

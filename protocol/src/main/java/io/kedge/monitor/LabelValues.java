package io.kedge.monitor;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Label children resolved once per label value, with a cap on how many distinct values a label may
 * take: values beyond {@code limit} share the child of {@code other}. Keeps a metric's series
 * bounded where the value comes from outside (a resource name a client sent) and spares the hot
 * path the library's own label lookup.
 *
 * @param <T> the resolved child (a counter or histogram data point, or an array of them)
 */
public final class LabelValues<T> {
  public static final String OTHER = "other";

  private final ConcurrentHashMap<String, T> children = new ConcurrentHashMap<>();
  private final Function<String, T> resolve;
  private final int limit;
  private final T other;

  public LabelValues(int limit, Function<String, T> resolve) {
    this.limit = limit;
    this.resolve = resolve;
    this.other = resolve.apply(OTHER);
  }

  /** The child for {@code value}: one lookup in a map once it has been seen. */
  public T get(String value) {
    if (value == null) {
      return other;
    }
    T t = children.get(value);
    if (t != null) {
      return t;
    }
    if (children.size() >= limit) {
      return other;
    }
    return children.computeIfAbsent(value, resolve);
  }
}

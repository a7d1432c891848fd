package io.kedge.keadm;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code --set} values as the user typed them. KubeEdge's documentation writes {@code --set a=true
 * b=true}; KubeEdge's keadm takes {@code b=true} as a stray argument and silently ignores it. Kedge
 * applies such a bare {@code key=value} as another {@code --set} and says so, so the page works as
 * written.
 */
public final class SetArguments {
  private static final Pattern KEY_VALUE = Pattern.compile("[A-Za-z][A-Za-z0-9_.\\[\\]-]*=.*");

  private SetArguments() {}

  /**
   * The {@code --set} values followed by the stray positional ones.
   *
   * @throws IllegalArgumentException for a positional argument that is not {@code key=value}
   */
  public static List<String> merge(
      List<String> sets, List<String> positional, KeadmEnvironment env) {
    List<String> all = new ArrayList<>(sets == null ? List.of() : sets);
    for (String p : positional == null ? List.<String>of() : positional) {
      if (!KEY_VALUE.matcher(p).matches()) {
        throw new IllegalArgumentException("unexpected argument '" + p + "'");
      }
      env.notice(
          "'"
              + p
              + "' follows --set without a comma; applying it as another --set"
              + " (KubeEdge's keadm would ignore it)");
      all.add(p);
    }
    return all;
  }
}

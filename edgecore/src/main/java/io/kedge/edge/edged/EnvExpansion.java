package io.kedge.edge.edged;

import java.util.function.Function;

/**
 * Kubernetes' {@code $(VAR)} expansion in env values, command and args: {@code $(NAME)} becomes the
 * value when NAME is known and stays as written otherwise; {@code $$} is a literal {@code $}.
 */
final class EnvExpansion {
  private EnvExpansion() {}

  static String expand(String input, Function<String, String> lookup) {
    StringBuilder out = new StringBuilder(input.length());
    int i = 0;
    while (i < input.length()) {
      char ch = input.charAt(i);
      if (ch != '$' || i + 1 >= input.length()) {
        out.append(ch);
        i++;
        continue;
      }
      char next = input.charAt(i + 1);
      if (next == '$') {
        out.append('$');
        i += 2;
      } else if (next == '(') {
        int close = input.indexOf(')', i + 2);
        if (close < 0) {
          out.append(input, i, input.length());
          break;
        }
        String name = input.substring(i + 2, close);
        String value = lookup.apply(name);
        out.append(value != null ? value : input.substring(i, close + 1));
        i = close + 1;
      } else {
        out.append(ch).append(next);
        i += 2;
      }
    }
    return out.toString();
  }
}

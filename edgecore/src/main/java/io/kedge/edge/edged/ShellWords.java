package io.kedge.edge.edged;

import java.util.List;

/** A command's words as one POSIX shell command line (for {@code script -c}). */
final class ShellWords {
  private ShellWords() {}

  static String join(List<String> words) {
    StringBuilder b = new StringBuilder();
    for (String w : words) {
      if (b.length() > 0) {
        b.append(' ');
      }
      b.append(quote(w));
    }
    return b.toString();
  }

  static String quote(String w) {
    if (!w.isEmpty() && w.matches("[A-Za-z0-9_@%+=:,./-]+")) {
      return w;
    }
    return "'" + w.replace("'", "'\\''") + "'";
  }
}

package io.kedge.protocol.selector;

/** Go's {@code %q} for strings, so that messages quote what was given as the apiserver does. */
final class GoQuoting {
  private GoQuoting() {}

  static String quote(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    s.codePoints()
        .forEach(
            c -> {
              switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case 7 -> b.append("\\a");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case 11 -> b.append("\\v");
                default -> {
                  if (c < 0x20 || c == 0x7f) {
                    b.append(String.format("\\x%02x", c));
                  } else if (!printable(c)) {
                    b.append(
                        c > 0xffff ? String.format("\\U%08x", c) : String.format("\\u%04x", c));
                  } else {
                    b.appendCodePoint(c);
                  }
                }
              }
            });
    return b.append('"').toString();
  }

  private static boolean printable(int c) {
    if (c < 0x80) {
      return true;
    }
    int t = Character.getType(c);
    return Character.isDefined(c)
        && t != Character.CONTROL
        && t != Character.FORMAT
        && t != Character.SURROGATE
        && t != Character.PRIVATE_USE
        && t != Character.UNASSIGNED
        && t != Character.LINE_SEPARATOR
        && t != Character.PARAGRAPH_SEPARATOR
        && (t != Character.SPACE_SEPARATOR || c == ' ');
  }
}

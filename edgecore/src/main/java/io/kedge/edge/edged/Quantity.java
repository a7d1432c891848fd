package io.kedge.edge.edged;

import java.math.BigDecimal;
import java.math.RoundingMode;

/** Kubernetes resource quantities ({@code 500m}, {@code 1Gi}, {@code 2e3}) as exact decimals. */
final class Quantity {
  private Quantity() {}

  static BigDecimal parse(String s) {
    String t = s == null ? "" : s.strip();
    if (t.isEmpty()) {
      throw new IllegalArgumentException("empty quantity");
    }
    int i = 0;
    if (t.charAt(0) == '+' || t.charAt(0) == '-') {
      i++;
    }
    while (i < t.length() && (Character.isDigit(t.charAt(i)) || t.charAt(i) == '.')) {
      i++;
    }
    BigDecimal number = new BigDecimal(t.substring(0, i));
    String suffix = t.substring(i);
    BigDecimal factor =
        switch (suffix) {
          case "" -> BigDecimal.ONE;
          case "n" -> new BigDecimal("1e-9");
          case "u" -> new BigDecimal("1e-6");
          case "m" -> new BigDecimal("1e-3");
          case "k" -> new BigDecimal("1e3");
          case "M" -> new BigDecimal("1e6");
          case "G" -> new BigDecimal("1e9");
          case "T" -> new BigDecimal("1e12");
          case "P" -> new BigDecimal("1e15");
          case "E" -> new BigDecimal("1e18");
          case "Ki" -> BigDecimal.valueOf(1L << 10);
          case "Mi" -> BigDecimal.valueOf(1L << 20);
          case "Gi" -> BigDecimal.valueOf(1L << 30);
          case "Ti" -> BigDecimal.valueOf(1L << 40);
          case "Pi" -> BigDecimal.valueOf(1L << 50);
          case "Ei" -> BigDecimal.valueOf(1L << 60);
          default -> {
            if (suffix.startsWith("e") || suffix.startsWith("E")) {
              yield BigDecimal.TEN.pow(
                  Integer.parseInt(suffix.substring(1)), java.math.MathContext.DECIMAL128);
            }
            throw new IllegalArgumentException("bad quantity suffix in " + s);
          }
        };
    return number.multiply(factor);
  }

  /** {@code value / divisor} rounded up, as the kubelet renders resourceFieldRef values. */
  static String divideCeil(BigDecimal value, BigDecimal divisor) {
    return value.divide(divisor, 0, RoundingMode.CEILING).toPlainString();
  }
}

package io.kedge.edge;

/** Entry point of {@code bin/edgecore}. */
public final class EdgeCoreMain {
  private EdgeCoreMain() {}

  public static void main(String[] args) {
    System.err.println("edgecore: not implemented yet");
    System.exit(1);
  }
}

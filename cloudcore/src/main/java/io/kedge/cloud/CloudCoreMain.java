package io.kedge.cloud;

/** Entry point of {@code bin/cloudcore}. */
public final class CloudCoreMain {
  private CloudCoreMain() {}

  public static void main(String[] args) {
    System.err.println("cloudcore: not implemented yet");
    System.exit(1);
  }
}

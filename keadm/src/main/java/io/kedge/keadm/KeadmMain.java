package io.kedge.keadm;

/** Entry point of {@code bin/keadm}. */
public final class KeadmMain {
  private KeadmMain() {}

  public static void main(String[] args) {
    System.err.println("keadm: not implemented yet");
    System.exit(1);
  }
}

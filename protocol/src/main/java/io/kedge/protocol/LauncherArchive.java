package io.kedge.protocol;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The launchers' class-data archive, seen from the program: a run that writes its loaded classes at
 * exit (bin/edgecore without an archive yet) gets the file's name in {@code kedge.cds.dump}. A run
 * that did something a node does once, such as joining and writing its credentials, loads classes
 * no later start needs (the certificate request, PEM writing: ~330 BouncyCastle classes on the
 * edge), and every class in the archive is resident in every start that maps it. Such a run says so
 * here; the launcher then drops its file and lets a later run make the archive.
 */
public final class LauncherArchive {
  /** The system property the launchers set to the file the JVM archives into at exit. */
  public static final String DUMP_PROPERTY = "kedge.cds.dump";

  private static final AtomicBoolean MARKED = new AtomicBoolean();

  private LauncherArchive() {}

  /**
   * Marks this run's archive as not to be kept, because of {@code why}; nothing when the run makes
   * no archive. Never fails: the archive is an optimisation.
   */
  public static void notRepresentative(String why) {
    String dump = System.getProperty(DUMP_PROPERTY);
    if (dump == null || dump.isBlank() || !MARKED.compareAndSet(false, true)) {
      return;
    }
    try {
      Files.writeString(Path.of(dump + ".skip"), why + "\n", StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException e) {
      MARKED.set(false);
    }
  }
}

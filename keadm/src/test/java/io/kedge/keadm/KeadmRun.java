package io.kedge.keadm;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Runs keadm in-process with captured output. */
record KeadmRun(int code, String out, String err) {

  static Path kedgeHome() {
    return Path.of(System.getProperty("kedge.home", "..")).toAbsolutePath().normalize();
  }

  static KeadmRun run(String... args) {
    return run(Map.of(), args);
  }

  static KeadmRun run(Map<String, String> extraEnv, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Map<String, String> env = new HashMap<>(System.getenv());
    env.putAll(extraEnv);
    KeadmEnvironment e =
        new KeadmEnvironment(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            new ByteArrayInputStream(new byte[0]),
            env,
            kedgeHome(),
            false,
            false);
    int code = KeadmMain.run(e, args);
    return new KeadmRun(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}

package io.kedge.edge.auth;

import io.kedge.edge.hub.CloudLink;
import io.kedge.edge.hub.NotConnectedException;
import io.kedge.protocol.message.Message;
import io.kedge.protocol.message.MessageRoute;
import io.kedge.protocol.message.Operations;
import io.kedge.protocol.message.Sources;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/**
 * A document the cloud answers to a {@code query} of a fixed resource (e.g. {@code k8s/ca.crt}),
 * kept in a file so that the edge has it when the cloud is not there. The file is replaced only by
 * an answer that passes {@code valid}.
 */
final class CloudDocument {
  private final CloudLink link;
  private final String resource;
  private final Path file;
  private final Duration timeout;
  private final Predicate<String> valid;

  CloudDocument(
      CloudLink link, String resource, Path file, Duration timeout, Predicate<String> valid) {
    this.link = link;
    this.resource = resource;
    this.file = file;
    this.timeout = timeout;
    this.valid = valid;
  }

  Path file() {
    return file;
  }

  /** The kept copy, if any. */
  Optional<String> cached() {
    try {
      return Files.isRegularFile(file)
          ? Optional.of(Files.readString(file, StandardCharsets.UTF_8))
          : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** Asks the cloud; completes with the new document once kept, or fails. */
  CompletableFuture<String> refresh() {
    Message q =
        Message.of(
            new MessageRoute(Sources.META_MANAGER, Sources.GROUP_META, Operations.QUERY, resource),
            null);
    CompletableFuture<Message> reply;
    try {
      reply = link.request(q, timeout);
    } catch (NotConnectedException e) {
      return CompletableFuture.failedFuture(e);
    }
    return reply.thenApply(
        m -> {
          String text = m.content().isString() ? m.content().asString() : "";
          if (text.isEmpty() || !valid.test(text)) {
            throw new IllegalStateException(
                "the cloud's answer to " + resource + " is empty or unusable");
          }
          write(text);
          return text;
        });
  }

  private void write(String text) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), ".doc", ".tmp");
      Files.writeString(tmp, text, StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}

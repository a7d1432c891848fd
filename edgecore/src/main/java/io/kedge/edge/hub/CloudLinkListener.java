package io.kedge.edge.hub;

/** Told when the edge's cloud connection comes up and goes down. Must not block. */
public interface CloudLinkListener {
  default void connected() {}

  default void disconnected() {}
}

package io.kedge.edge.store;

import java.util.List;

/**
 * Objects of one scope in key order, read in one consistent snapshot. {@code headSeq} is the last
 * event sequence number the snapshot includes; {@code more} tells whether objects follow the last
 * one returned, and {@code rest} how many do when the read was asked to count them (-1 when not).
 */
public record ObjectPage(
    List<StoredObject> objects, long headSeq, ResourceState state, boolean more, long rest) {}

package io.kedge.edge.hub;

import static org.assertj.core.api.Assertions.assertThat;

import io.kedge.protocol.config.CloudAddresses;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CloudEndpointsTest {
  private static final CloudEndpoints.Resolver LITERALS = h -> List.of(InetAddress.getByName(h));

  private static List<CloudAddresses.HostPort> three() {
    return CloudAddresses.servers("10.0.0.1:10000,10.0.0.2:10000,10.0.0.3:10000", "k");
  }

  @Test
  void theNodeNameSpreadsAFleetOverTheCloudcoresAndPicksTheSameOneAgain() {
    Map<String, Integer> per = new HashMap<>();
    for (int i = 0; i < 300; i++) {
      String node = "edge-" + i;
      CloudEndpoints.Endpoint first =
          new CloudEndpoints(three(), node, LITERALS, new SplittableRandom(i)).next();
      CloudEndpoints.Endpoint again =
          new CloudEndpoints(three(), node, LITERALS, new SplittableRandom(i + 1000)).next();
      assertThat(again).isEqualTo(first);
      per.merge(first.address().getHostAddress(), 1, Integer::sum);
    }
    assertThat(per).hasSize(3);
    assertThat(per.values()).allSatisfy(n -> assertThat(n).isBetween(60, 140));
  }

  @Test
  void aLostConnectionMovesToAnotherAndTheEdgesOfADeadCloudcoreSpreadOverTheSurvivors() {
    Set<String> survivors = new HashSet<>();
    for (int i = 0; i < 50; i++) {
      CloudEndpoints e = new CloudEndpoints(three(), "edge-x", LITERALS, new SplittableRandom(i));
      CloudEndpoints.Endpoint first = e.next();
      e.lost(true);
      CloudEndpoints.Endpoint second = e.next();
      assertThat(second).isNotEqualTo(first);
      survivors.add(second.address().getHostAddress());
      assertThat(e.rounds()).isZero();
    }
    assertThat(survivors).hasSize(2);
  }

  @Test
  void failedAttemptsTryEveryAddressOnceARoundThenTheBackOffGrows() {
    CloudEndpoints e = new CloudEndpoints(three(), "edge-y", LITERALS, new SplittableRandom(7));
    Set<CloudEndpoints.Endpoint> round = new HashSet<>();
    round.add(e.next());
    round.add(e.next());
    round.add(e.next());
    assertThat(round).hasSize(3);
    assertThat(e.rounds()).isZero();
    e.next();
    assertThat(e.rounds()).isEqualTo(1);
    e.lost(false); // a connection that flapped does not reset the back-off
    e.next();
    assertThat(e.rounds()).isEqualTo(1);
    e.lost(true);
    assertThat(e.rounds()).isZero();
  }

  @Test
  void aRotatedCertificateReconnectsToTheSameCloudcore() {
    CloudEndpoints e = new CloudEndpoints(three(), "edge-z", LITERALS, new SplittableRandom(3));
    CloudEndpoints.Endpoint first = e.next();
    e.again();
    assertThat(e.next()).isEqualTo(first);
  }

  @Test
  void aNameThatResolvesToSeveralCountsAsThatManyCloudcores() throws Exception {
    CloudEndpoints.Resolver dns =
        h -> {
          if (!h.equals("cloudcore.example")) {
            throw new UnknownHostException(h);
          }
          return List.of(InetAddress.getByName("10.0.0.9"), InetAddress.getByName("10.0.0.8"));
        };
    CloudEndpoints e =
        new CloudEndpoints(
            CloudAddresses.servers("cloudcore.example:10000", "k"),
            "edge-d",
            dns,
            new SplittableRandom(1));
    List<CloudEndpoints.Endpoint> all = e.all();
    assertThat(all)
        .extracting(p -> p.address().getHostAddress())
        .containsExactly("10.0.0.8", "10.0.0.9");
    // the URL keeps the name (TLS checks the certificate against it), the connection its address
    assertThat(all.get(0).uri("p", "n").toString())
        .isEqualTo("wss://cloudcore.example:10000/p/n/events");
    CloudEndpoints.Endpoint first = e.next();
    e.lost(true);
    assertThat(e.next().address()).isNotEqualTo(first.address());
  }

  @Test
  void anUnresolvableNameIsStillTriedByName() {
    CloudEndpoints e =
        new CloudEndpoints(
            CloudAddresses.servers("nowhere.invalid:10000", "k"),
            "edge-u",
            h -> {
              throw new UnknownHostException(h);
            },
            new SplittableRandom(1));
    CloudEndpoints.Endpoint p = e.next();
    assertThat(p.address()).isNull();
    assertThat(p.host()).isEqualTo("nowhere.invalid");
  }
}

package io.kedge.pki;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What a certificate says about its subject: CN, O, SANs, usage and lifetime.
 *
 * @param commonName subject CN
 * @param organizations subject O values, in order
 * @param ipAddresses IP SANs
 * @param dnsNames DNS SANs
 * @param serverAuth whether the certificate may serve TLS
 * @param clientAuth whether the certificate may authenticate a TLS client
 * @param validity lifetime from now (back-dated by a minute for clock skew)
 */
public record CertSpec(
    String commonName,
    List<String> organizations,
    List<String> ipAddresses,
    List<String> dnsNames,
    boolean serverAuth,
    boolean clientAuth,
    Duration validity) {

  public CertSpec {
    Objects.requireNonNull(commonName, "commonName");
    organizations = List.copyOf(organizations);
    ipAddresses = List.copyOf(ipAddresses);
    dnsNames = List.copyOf(dnsNames);
    Objects.requireNonNull(validity, "validity");
  }

  public static CertSpec server(String cn, List<String> ips, List<String> dns, Duration validity) {
    return new CertSpec(cn, List.of(), ips, dns, true, false, validity);
  }

  public static CertSpec client(String cn, List<String> orgs, Duration validity) {
    return new CertSpec(cn, orgs, List.of(), List.of(), false, true, validity);
  }

  public CertSpec withOrganizations(List<String> orgs) {
    return new CertSpec(commonName, orgs, ipAddresses, dnsNames, serverAuth, clientAuth, validity);
  }
}

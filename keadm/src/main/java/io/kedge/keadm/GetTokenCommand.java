package io.kedge.keadm;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code keadm gettoken}: prints the join token (Secret kubeedge/tokensecret) and nothing else. */
@Command(
    name = "gettoken",
    mixinStandardHelpOptions = true,
    header = "Print the token edge nodes join with.",
    description =
        "Reads Secret kubeedge/tokensecret (cloudcore keeps it fresh); only the token goes to"
            + " standard output.")
public final class GetTokenCommand implements Callable<Integer> {
  private final KeadmEnvironment env;

  @Option(
      names = "--kube-config",
      paramLabel = "FILE",
      description = "admin kubeconfig of the cluster (default: $KUBECONFIG, else ~/.kube/config)")
  Path kubeConfig;

  GetTokenCommand(KeadmEnvironment env) {
    this.env = env;
  }

  @Override
  public Integer call() {
    ClusterAccess cluster = ClusterAccess.resolve(kubeConfig, env);
    try (KubernetesClient client = cluster.client()) {
      CloudInstaller installer = new CloudInstaller(env, client, env.kedgeHome().resolve("deploy"));
      String token =
          installer
              .token()
              .orElseThrow(
                  () ->
                      new KeadmException(
                          "no join token in Secret "
                              + InitCommand.NAMESPACE
                              + "/"
                              + CloudInstaller.TOKEN_SECRET
                              + " of "
                              + cluster.server()
                              + "; run 'keadm init' first"));
      env.out().println(token);
      return 0;
    } catch (KubernetesClientException e) {
      throw new KeadmException(
          "cannot read Secret "
              + InitCommand.NAMESPACE
              + "/"
              + CloudInstaller.TOKEN_SECRET
              + " at "
              + cluster.server()
              + ": "
              + ClusterAccess.reason(e),
          e);
    }
  }
}

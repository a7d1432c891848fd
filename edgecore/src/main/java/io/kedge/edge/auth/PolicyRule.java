package io.kedge.edge.auth;

import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * An RBAC {@code PolicyRule} and Kubernetes' matching semantics for it: verbs and API groups match
 * exactly or by {@code *}; resources exactly ({@code resource} or {@code resource/subresource}), by
 * {@code *}, or by {@code * /subresource}; resourceNames, when given, must contain the name;
 * nonResourceURLs match exactly, by {@code *}, or as a prefix when ending in {@code *}.
 */
public record PolicyRule(
    List<String> verbs,
    List<String> apiGroups,
    List<String> resources,
    List<String> resourceNames,
    List<String> nonResourceURLs) {

  public PolicyRule {
    verbs = List.copyOf(verbs);
    apiGroups = List.copyOf(apiGroups);
    resources = List.copyOf(resources);
    resourceNames = List.copyOf(resourceNames);
    nonResourceURLs = List.copyOf(nonResourceURLs);
  }

  public static PolicyRule resources(List<String> verbs, List<String> groups, List<String> res) {
    return new PolicyRule(verbs, groups, res, List.of(), List.of());
  }

  public static PolicyRule fromJson(JsonNode n) {
    return new PolicyRule(
        strings(n.get("verbs")),
        strings(n.get("apiGroups")),
        strings(n.get("resources")),
        strings(n.get("resourceNames")),
        strings(n.get("nonResourceURLs")));
  }

  public boolean allows(RequestAttributes a) {
    if (!verbMatches(a.verb())) {
      return false;
    }
    if (a.resourceRequest()) {
      return apiGroupMatches(a.apiGroup())
          && resourceMatches(a.combinedResource(), a.subresource())
          && resourceNameMatches(a.name());
    }
    return nonResourceUrlMatches(a.path());
  }

  boolean verbMatches(String verb) {
    for (String v : verbs) {
      if ("*".equals(v) || v.equals(verb)) {
        return true;
      }
    }
    return false;
  }

  boolean apiGroupMatches(String group) {
    for (String g : apiGroups) {
      if ("*".equals(g) || g.equals(group)) {
        return true;
      }
    }
    return false;
  }

  boolean resourceMatches(String combined, String subresource) {
    for (String r : resources) {
      if ("*".equals(r) || r.equals(combined)) {
        return true;
      }
      if (!subresource.isEmpty()
          && r.length() == subresource.length() + 2
          && r.startsWith("*/")
          && r.endsWith(subresource)) {
        return true;
      }
    }
    return false;
  }

  boolean resourceNameMatches(String name) {
    return resourceNames.isEmpty() || resourceNames.contains(name);
  }

  boolean nonResourceUrlMatches(String path) {
    for (String u : nonResourceURLs) {
      if ("*".equals(u) || u.equals(path)) {
        return true;
      }
      if (u.endsWith("*") && path.startsWith(stripStars(u))) {
        return true;
      }
    }
    return false;
  }

  private static String stripStars(String s) {
    int end = s.length();
    while (end > 0 && s.charAt(end - 1) == '*') {
      end--;
    }
    return s.substring(0, end);
  }

  static List<String> strings(JsonNode arr) {
    if (arr == null || !arr.isArray()) {
      return List.of();
    }
    java.util.ArrayList<String> out = new java.util.ArrayList<>();
    for (JsonNode s : arr) {
      if (s.isString()) {
        out.add(s.stringValue());
      }
    }
    return out;
  }
}

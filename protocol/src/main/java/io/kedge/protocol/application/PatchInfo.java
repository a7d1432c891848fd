package io.kedge.protocol.application;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * The {@code Option} of a patch Application: {@code {"Name","PatchType","Data"(base64),
 * "Options","Subresources"}}.
 */
public record PatchInfo(
    @JsonProperty("Name") String name,
    @JsonProperty("PatchType") String patchType,
    @JsonProperty("Data") byte[] data,
    @JsonProperty("Options") JsonNode options,
    @JsonProperty("Subresources") List<String> subresources) {}

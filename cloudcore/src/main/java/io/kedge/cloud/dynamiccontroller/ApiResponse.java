package io.kedge.cloud.dynamiccontroller;

/**
 * The apiserver's answer: status code, Content-Type and body bytes, unchanged.
 *
 * @param code HTTP status code
 * @param contentType Content-Type header, or empty
 * @param body response body (never null)
 */
public record ApiResponse(int code, String contentType, byte[] body) {

  public ApiResponse {
    contentType = contentType == null ? "" : contentType;
    body = body == null ? new byte[0] : body;
  }

  public boolean successful() {
    return code >= 200 && code < 300;
  }

  public boolean json() {
    return contentType.startsWith("application/json");
  }

  @Override
  public String toString() {
    return code + " " + contentType + " (" + body.length + " bytes)";
  }
}

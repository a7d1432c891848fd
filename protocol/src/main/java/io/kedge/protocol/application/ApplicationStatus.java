package io.kedge.protocol.application;

/** Values of {@code Application.Status}. */
public final class ApplicationStatus {
  private ApplicationStatus() {}

  public static final String PRE_APPLYING = "PreApplying";
  public static final String IN_APPLYING = "InApplying";
  public static final String IN_PROCESSING = "InProcessing";
  public static final String APPROVED = "Approved";
  public static final String REJECTED = "Rejected";
  public static final String FAILED = "Failed";
  public static final String COMPLETED = "Completed";
}

package io.conea.metrics.internal;

/**
 * The SLF4J MDC keys conea writes, named as the monitoring guide's log fields that conea-logging
 * writes them to.
 *
 * <p>Not API: public only for conea's other modules.
 */
public final class MdcKeys {

  /** The trace id (32 hex characters). */
  public static final String TRACE_ID = "trace_id";

  /** The span id (16 hex characters). */
  public static final String SPAN_ID = "span_id";

  /** The request method. */
  public static final String METHOD = "method";

  /** The request path within the application. */
  public static final String PATH = "path";

  /** The user id from the request's user id header. */
  public static final String USER_ID = "user_id";

  /** The organization id from the request's organization id header. */
  public static final String ORGANIZATION_ID = "organization_id";

  /** The AI model of the call being made. */
  public static final String MODEL = "model";

  /** The AI provider of the call being made. */
  public static final String PROVIDER = "provider";

  private MdcKeys() {}
}

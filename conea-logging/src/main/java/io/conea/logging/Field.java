package io.conea.logging;

import org.jspecify.annotations.Nullable;

/**
 * The top-level fields of a line, in the order they are written.
 *
 * <p>The first thirteen are the monitoring guide's schema in the guide's order; the rest are
 * optional additions that follow it. The request fields are read from a key-value pair or the MDC
 * entry of the same (default) name.
 */
enum Field {
  TIMESTAMP("timestamp"),
  LEVEL("level"),
  SERVICE("service"),
  TRACE_ID("trace_id"),
  SPAN_ID("span_id"),
  USER_ID("user_id"),
  ORGANIZATION_ID("organization_id"),
  METHOD("method"),
  PATH("path"),
  STATUS("status"),
  DURATION_MS("duration_ms"),
  MESSAGE("message"),
  METADATA("metadata"),
  LOGGER("logger"),
  THREAD("thread"),
  ERROR("error"),
  TRUNCATED("truncated");

  /**
   * Number of fields read from key-value pairs or the MDC: {@code TRACE_ID} to {@code DURATION_MS}.
   */
  static final int CONTEXT_FIELDS = 8;

  private static final Field[] VALUES = values();

  final String defaultName;

  Field(String defaultName) {
    this.defaultName = defaultName;
  }

  /** Slot of a field read from key-value pairs or the MDC, or -1 for any other field. */
  int contextSlot() {
    int slot = ordinal() - TRACE_ID.ordinal();
    return slot >= 0 && slot < CONTEXT_FIELDS ? slot : -1;
  }

  /** The field read from the key-value pair or MDC entry named {@code key}, or null. */
  static @Nullable Field forContextKey(@Nullable String key) {
    if (key == null) {
      return null;
    }
    switch (key) {
      case "trace_id":
        return TRACE_ID;
      case "span_id":
        return SPAN_ID;
      case "user_id":
        return USER_ID;
      case "organization_id":
        return ORGANIZATION_ID;
      case "method":
        return METHOD;
      case "path":
        return PATH;
      case "status":
        return STATUS;
      case "duration_ms":
        return DURATION_MS;
      default:
        return null;
    }
  }

  /** The field whose default name is {@code name}, or null. */
  static @Nullable Field forDefaultName(String name) {
    for (Field field : VALUES) {
      if (field.defaultName.equals(name)) {
        return field;
      }
    }
    return null;
  }

  static Field contextField(int slot) {
    return VALUES[TRACE_ID.ordinal() + slot];
  }
}

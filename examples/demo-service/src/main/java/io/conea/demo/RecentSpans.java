package io.conea.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the most recent sampled spans in memory and renders them as JSON, so the demo shows its
 * traces at {@code /debug/traces} with no collector running.
 */
final class RecentSpans implements SpanProcessor {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final int capacity;
  private final ArrayDeque<SpanData> spans;

  RecentSpans(int capacity) {
    this.capacity = capacity;
    this.spans = new ArrayDeque<>(capacity);
  }

  @Override
  public void onStart(Context parentContext, ReadWriteSpan span) {}

  @Override
  public boolean isStartRequired() {
    return false;
  }

  @Override
  public void onEnd(ReadableSpan span) {
    if (!span.getSpanContext().isSampled()) {
      return;
    }
    SpanData data = span.toSpanData();
    synchronized (spans) {
      if (spans.size() == capacity) {
        spans.pollFirst();
      }
      spans.addLast(data);
    }
  }

  @Override
  public boolean isEndRequired() {
    return true;
  }

  @Override
  public CompletableResultCode shutdown() {
    return CompletableResultCode.ofSuccess();
  }

  /** Renders the kept spans, newest first. */
  String toJson() {
    List<SpanData> snapshot;
    synchronized (spans) {
      snapshot = new ArrayList<>(spans);
    }
    ObjectNode root = JSON.createObjectNode();
    root.put("capacity", capacity);
    ArrayNode array = root.putArray("spans");
    for (int i = snapshot.size() - 1; i >= 0; i--) {
      SpanData span = snapshot.get(i);
      ObjectNode node = array.addObject();
      node.put("trace_id", span.getTraceId());
      node.put("span_id", span.getSpanId());
      if (span.getParentSpanContext().isValid()) {
        node.put("parent_span_id", span.getParentSpanId());
      }
      node.put("name", span.getName());
      node.put("kind", span.getKind().name());
      node.put("start", Instant.ofEpochSecond(0, span.getStartEpochNanos()).toString());
      node.put(
          "duration_ms",
          (span.getEndEpochNanos() - span.getStartEpochNanos())
              / (double) TimeUnit.MILLISECONDS.toNanos(1));
      node.put("status", span.getStatus().getStatusCode().name());
      ObjectNode attributes = node.putObject("attributes");
      span.getAttributes()
          .forEach((key, value) -> attributes.put(key.getKey(), String.valueOf(value)));
    }
    root.put("count", snapshot.size());
    return root.toString();
  }
}

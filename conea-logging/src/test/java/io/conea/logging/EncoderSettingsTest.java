package io.conea.logging;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EncoderSettingsTest {

  private final EncoderSettings.Builder builder = new EncoderSettings.Builder(name -> null);

  private static String name(EncoderSettings settings, Field field) {
    return new String(settings.names[field.ordinal()], StandardCharsets.UTF_8);
  }

  @Test
  void buildsTheDefaults() {
    List<String> problems = new ArrayList<>();
    EncoderSettings settings = builder.build(problems);
    assertThat(problems).isEmpty();
    assertThat(settings).isNotNull();
    assertThat(name(settings, Field.TIMESTAMP)).isEqualTo("\"timestamp\":");
    assertThat(name(settings, Field.TRUNCATED)).isEqualTo("\"truncated\":");
    assertThat(settings.mdcKeys).isEmpty();
    assertThat(settings.includeLogger).isFalse();
    assertThat(settings.includeThread).isFalse();
    assertThat(settings.maxMessageLength).isEqualTo(ConeaJsonEncoder.DEFAULT_MAX_MESSAGE_LENGTH);
    assertThat(settings.maxValueLength).isEqualTo(ConeaJsonEncoder.DEFAULT_MAX_VALUE_LENGTH);
    assertThat(settings.maxStackTraceLength)
        .isEqualTo(ConeaJsonEncoder.DEFAULT_MAX_STACK_TRACE_LENGTH);
    assertThat(settings.maxStackTraceFrames)
        .isEqualTo(ConeaJsonEncoder.DEFAULT_MAX_STACK_TRACE_FRAMES);
    assertThat(settings.maxLineBytes).isEqualTo(ConeaJsonEncoder.DEFAULT_MAX_LINE_BYTES);
    // The newline, then ,"truncated":true kept back.
    assertThat(settings.truncatedEnd)
        .isEqualTo(ConeaJsonEncoder.DEFAULT_MAX_LINE_BYTES - 1 - ",\"truncated\":true".length());
  }

  @Test
  void parsesRenamesAndMdcKeys() {
    builder.fieldNames = " level = severity ,, message=msg ";
    builder.includeMdcKeys = "tenant, region ,";
    builder.service = "svc";
    builder.includeThread = true;
    List<String> problems = new ArrayList<>();
    EncoderSettings settings = builder.build(problems);
    assertThat(problems).isEmpty();
    assertThat(settings).isNotNull();
    assertThat(name(settings, Field.LEVEL)).isEqualTo("\"severity\":");
    assertThat(name(settings, Field.MESSAGE)).isEqualTo("\"msg\":");
    assertThat(name(settings, Field.SERVICE)).isEqualTo("\"service\":");
    assertThat(settings.mdcKeys).containsExactly("tenant", "region");
    assertThat(settings.service).isEqualTo("svc");
    assertThat(settings.includeThread).isTrue();
  }

  @Test
  void nullListsMeanNone() {
    builder.fieldNames = null;
    builder.includeMdcKeys = null;
    EncoderSettings settings = builder.build(new ArrayList<>());
    assertThat(settings).isNotNull();
    assertThat(settings.mdcKeys).isEmpty();
    assertThat(name(settings, Field.LEVEL)).isEqualTo("\"level\":");
  }

  @Test
  void addsItsProblemsAfterEarlierOnesAndBuildsNothingWhenThereAreAny() {
    List<String> problems = new ArrayList<>();
    problems.add("earlier");
    assertThat(builder.build(problems)).isNull();
    assertThat(problems).containsExactly("earlier");

    builder.maxLineBytes = ConeaJsonEncoder.MAX_LINE_BYTES + 1;
    builder.maxStackTraceFrames = -1;
    builder.includeMdcKeys = "user_id";
    assertThat(builder.build(problems)).isNull();
    assertThat(problems)
        .containsExactly(
            "earlier",
            "maxStackTraceFrames must be at least 0, was -1",
            "maxLineBytes must be between 1024 and 1048576, was 1048577",
            "includeMdcKeys lists 'user_id', which is read for the top-level field of that name"
                + " already");
  }
}

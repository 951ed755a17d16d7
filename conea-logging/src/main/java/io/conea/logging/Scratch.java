package io.conea.logging;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;

/** The reusable buffers one encoding needs; used by one thread at a time. */
final class Scratch {

  /** Quotes, the longest year a long millisecond value reaches, {@code .SSSZ}. */
  static final int TIMESTAMP_VALUE_BYTES = 40;

  private static final DateTimeFormatter SECOND_FORMAT =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss", Locale.ROOT);

  final JsonWriter writer;
  final StackTraceWriter stackTraces;

  /** Values of key-value pairs named like request fields, by {@link Field#contextSlot()}. */
  final @Nullable Object[] context = new Object[Field.CONTEXT_FIELDS];

  // Start and length of each metadata name written on this line, to find duplicates.
  private int[] keys = new int[32];
  private int keyCount;

  // The formatted second of the previous event, which is usually the same.
  private long cachedSecond = Long.MIN_VALUE;
  private final byte[] secondText = new byte[TIMESTAMP_VALUE_BYTES];
  private int secondTextLength;

  Scratch(int maxLineBytes, int maxStackTraceFrames) {
    this.writer = new JsonWriter(maxLineBytes);
    this.stackTraces = new StackTraceWriter(maxStackTraceFrames);
  }

  /** Records a metadata name written at {@code start}; false if the same bytes came before. */
  boolean addKey(int start, int length) {
    for (int i = 0; i < keyCount; i += 2) {
      if (keys[i + 1] == length && writer.regionEquals(keys[i], start, length)) {
        return false;
      }
    }
    if (keyCount == keys.length) {
      keys = Arrays.copyOf(keys, keys.length * 2);
    }
    keys[keyCount++] = start;
    keys[keyCount++] = length;
    return true;
  }

  /** Writes the quoted UTC timestamp with milliseconds; the caller reserved its room. */
  void writeTimestamp(long epochMillis) {
    long second = Math.floorDiv(epochMillis, 1000L);
    int millis = (int) Math.floorMod(epochMillis, 1000L);
    if (second != cachedSecond) {
      String text = SECOND_FORMAT.format(LocalDateTime.ofEpochSecond(second, 0, ZoneOffset.UTC));
      secondTextLength = text.length();
      for (int i = 0; i < secondTextLength; i++) {
        secondText[i] = (byte) text.charAt(i);
      }
      cachedSecond = second;
    }
    writer.raw('"');
    writer.raw(secondText, 0, secondTextLength);
    writer.raw('.');
    writer.raw((char) ('0' + millis / 100));
    writer.raw((char) ('0' + millis / 10 % 10));
    writer.raw((char) ('0' + millis % 10));
    writer.raw('Z');
    writer.raw('"');
    writer.endRawValue();
  }

  /** Forgets the previous event, so that no reference outlives it. */
  void clear() {
    Arrays.fill(context, null);
    keyCount = 0;
  }

  /**
   * A few scratches shared by all threads, taken and given back without locking.
   *
   * <p>A pool rather than one scratch per thread: memory stays bounded by the pool size however
   * many threads log (virtual threads included), and nothing is left in threads after the encoder
   * stops. When every pooled scratch is in use a temporary one is made, and given back only if a
   * slot is free.
   */
  static final class Pool {
    /** Idle scratches; null in the slots of those in use. */
    private final AtomicReferenceArray<@Nullable Scratch> slots;

    private final int maxLineBytes;
    private final int maxStackTraceFrames;

    Pool(int maxLineBytes, int maxStackTraceFrames) {
      int size = Math.min(64, Math.max(4, 2 * Runtime.getRuntime().availableProcessors()));
      this.slots = new AtomicReferenceArray<>(size);
      this.maxLineBytes = maxLineBytes;
      this.maxStackTraceFrames = maxStackTraceFrames;
    }

    Scratch take() {
      int size = slots.length();
      int first = firstSlot(size);
      for (int i = 0; i < size; i++) {
        int slot = (first + i) % size;
        if (slots.get(slot) != null) {
          Scratch scratch = slots.getAndSet(slot, null);
          if (scratch != null) {
            return scratch;
          }
        }
      }
      return new Scratch(maxLineBytes, maxStackTraceFrames);
    }

    void give(Scratch scratch) {
      int size = slots.length();
      int first = firstSlot(size);
      for (int i = 0; i < size; i++) {
        if (slots.compareAndSet((first + i) % size, null, scratch)) {
          return;
        }
      }
    }

    /** Where this thread starts looking, so that threads mostly keep to their own slots. */
    private static int firstSlot(int size) {
      return (System.identityHashCode(Thread.currentThread()) & Integer.MAX_VALUE) % size;
    }

    /** Scratches waiting in the pool now. */
    int idle() {
      int idle = 0;
      for (int i = 0; i < slots.length(); i++) {
        if (slots.get(i) != null) {
          idle++;
        }
      }
      return idle;
    }
  }
}

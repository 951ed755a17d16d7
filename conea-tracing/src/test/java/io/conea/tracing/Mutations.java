package io.conea.tracing;

import java.util.Random;

/** Hostile variants of well-formed header values: flipped, cut, repeated and random characters. */
public final class Mutations {

  private Mutations() {}

  /** Returns a random mutation of {@code seed}; never contains CR or LF. */
  public static String mutate(String seed, Random random) {
    StringBuilder value = new StringBuilder(seed);
    int operations = 1 + random.nextInt(4);
    for (int i = 0; i < operations; i++) {
      switch (random.nextInt(8)) {
        case 0: // random printable and non-ASCII characters of random length
          value.setLength(0);
          int length = random.nextInt(200);
          for (int c = 0; c < length; c++) {
            value.append(randomChar(random));
          }
          break;
        case 1: // cut
          value.setLength(value.length() == 0 ? 0 : random.nextInt(value.length()));
          break;
        case 2: // flip one character
          if (value.length() > 0) {
            value.setCharAt(random.nextInt(value.length()), randomChar(random));
          }
          break;
        case 3: // oversize
          String copy = value.toString();
          int times = 1 + random.nextInt(60);
          for (int t = 0; t < times; t++) {
            value.append(copy.isEmpty() ? "f" : copy);
          }
          break;
        case 4: // separators where they do not belong
          value.insert(random.nextInt(value.length() + 1), "-:,=;%".charAt(random.nextInt(6)));
          break;
        case 5: // hex digits beyond range
          value.insert(random.nextInt(value.length() + 1), "ffffffffffffffffffffffffffffffffff");
          break;
        case 6: // percent escapes, broken
          value.append("%").append(random.nextBoolean() ? "zz" : "");
          break;
        default: // whitespace
          value.insert(random.nextInt(value.length() + 1), random.nextBoolean() ? ' ' : '\t');
          break;
      }
    }
    return value.toString();
  }

  private static char randomChar(Random random) {
    switch (random.nextInt(3)) {
      case 0:
        return (char) (0x20 + random.nextInt(0x5f));
      case 1:
        return "0123456789abcdef-:".charAt(random.nextInt(18));
      default:
        char c = (char) (0x80 + random.nextInt(0x700));
        return c;
    }
  }
}

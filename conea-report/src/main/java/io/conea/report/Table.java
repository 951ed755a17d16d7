package io.conea.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A plain-text table: a header row and rows of cells, columns separated by two spaces. Columns
 * whose cells are all numbers (a %, pp or s may follow) are aligned right.
 */
final class Table {

  /** A number, possibly signed, with an optional unit (%, pp, s), or "-" for no value. */
  private static final Pattern NUMERIC =
      Pattern.compile("[-+]?([0-9][0-9.]*(e[-+]?[0-9]+)?|Inf)(%| pp| s)?|-");

  private final List<String> header;
  private final List<List<String>> rows = new ArrayList<>();

  Table(String... header) {
    this.header = List.of(header);
  }

  Table row(String... cells) {
    if (cells.length != header.size()) {
      throw new IllegalArgumentException(
          "a row of " + cells.length + " cells in a table of " + header.size() + " columns");
    }
    rows.add(List.of(cells));
    return this;
  }

  /** The table, each line starting with {@code indent} and ending with a line separator. */
  String render(String indent) {
    int columns = header.size();
    int[] widths = new int[columns];
    boolean[] right = new boolean[columns];
    for (int c = 0; c < columns; c++) {
      widths[c] = header.get(c).length();
      boolean numbers = true;
      boolean any = false;
      for (List<String> row : rows) {
        widths[c] = Math.max(widths[c], row.get(c).length());
        numbers &= NUMERIC.matcher(row.get(c)).matches();
        any |= !row.get(c).equals("-");
      }
      right[c] = numbers && any;
    }
    StringBuilder out = new StringBuilder();
    line(out, indent, header, widths, right);
    for (List<String> row : rows) {
      line(out, indent, row, widths, right);
    }
    return out.toString();
  }

  private static void line(
      StringBuilder out, String indent, List<String> cells, int[] widths, boolean[] right) {
    StringBuilder line = new StringBuilder(indent);
    for (int c = 0; c < cells.size(); c++) {
      if (c > 0) {
        line.append("  ");
      }
      String cell = cells.get(c);
      String pad = " ".repeat(widths[c] - cell.length());
      line.append(right[c] ? pad + cell : cell + pad);
    }
    out.append(line.toString().stripTrailing()).append(System.lineSeparator());
  }

  /** {@code value} with {@code decimals} decimals, or "-" for no value. */
  static String number(double value, int decimals) {
    if (Double.isNaN(value)) {
      return "-";
    }
    return String.format(Locale.ROOT, "%." + decimals + "f", value);
  }
}

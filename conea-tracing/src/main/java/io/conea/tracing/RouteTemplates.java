package io.conea.tracing;

import static java.util.Objects.requireNonNull;

import io.conea.metrics.internal.Limits;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Route templates the application registers, matched against request paths segment by segment.
 *
 * <p>A template is a path whose segments are literals or {@code {name}} variables; a variable
 * matches exactly one non-empty segment. When several templates match, the one with the most
 * literal segments wins, then the one registered first. One trailing slash on the path is ignored.
 *
 * <pre>{@code
 * RouteResolver routes = RouteTemplates.of(
 *     "/api/v1/users/{id}",
 *     "/api/v1/users/me",
 *     "/api/v1/jobs/{jobType}");
 * routes.resolve("GET", "/api/v1/users/42"); // "/api/v1/users/{id}"
 * routes.resolve("GET", "/api/v1/users/me"); // "/api/v1/users/me"
 * }</pre>
 *
 * <p>Matching allocates nothing.
 */
public final class RouteTemplates implements RouteResolver {

  /**
   * Longest template accepted; the metrics keep no longer {@code endpoint} value, so a longer
   * template would be counted as {@code _OTHER}.
   */
  static final int MAX_TEMPLATE_LENGTH = Limits.MAX_LABEL_VALUE_LENGTH;

  private final Template[] templates;
  private final List<String> texts;

  RouteTemplates(Template[] templates, List<String> texts) {
    this.templates = templates;
    this.texts = texts;
  }

  /**
   * Returns a resolver for the given templates; fails when a template is empty, does not start with
   * {@code /}, is longer than 256 characters, or has a malformed variable.
   */
  public static RouteTemplates of(String... templates) {
    requireNonNull(templates, "templates");
    return of(Arrays.asList(templates));
  }

  /** Returns a resolver for the given templates, validated as in {@link #of(String...)}. */
  public static RouteTemplates of(List<String> templates) {
    requireNonNull(templates, "templates");
    List<Template> parsed = new ArrayList<>(templates.size());
    List<String> texts = new ArrayList<>(templates.size());
    for (String template : templates) {
      parsed.add(Template.parse(template));
      texts.add(template);
    }
    // Most specific first, so that the first match is the winner; the sort is stable.
    parsed.sort((a, b) -> Integer.compare(b.literalCount, a.literalCount));
    return new RouteTemplates(parsed.toArray(new Template[0]), List.copyOf(texts));
  }

  /** Returns the templates in the order they were given. */
  List<String> templates() {
    return texts;
  }

  /** Returns the best matching template, or null when none matches. */
  @Override
  public @Nullable String resolve(String method, String path) {
    if (path == null) {
      return null;
    }
    // Counted once, so that templates of another depth are passed over without comparing text.
    int segments = segmentCount(path);
    for (Template template : templates) {
      if (template.segments.length == segments && template.matches(path)) {
        return template.text;
      }
    }
    return null;
  }

  /** Returns the number of segments of a path, a trailing slash ignored: 0 for "/". */
  static int segmentCount(String path) {
    int length = path.length();
    if (length > 1 && path.charAt(length - 1) == '/') {
      length--;
    }
    if (length <= 1) {
      return 0;
    }
    int count = 0;
    for (int i = 0; i < length; i++) {
      if (path.charAt(i) == '/') {
        count++;
      }
    }
    return count;
  }

  @Override
  public String toString() {
    return "RouteTemplates" + texts;
  }

  static final class Template {
    final String text;

    /** Literal segment text, or null for a variable. */
    final String[] segments;

    final int literalCount;

    private Template(String text, String[] segments, int literalCount) {
      this.text = text;
      this.segments = segments;
      this.literalCount = literalCount;
    }

    static Template parse(String text) {
      requireNonNull(text, "template");
      if (text.isEmpty() || text.charAt(0) != '/') {
        throw new IllegalArgumentException("Route template must start with '/': \"" + text + "\"");
      }
      if (text.length() > MAX_TEMPLATE_LENGTH) {
        throw new IllegalArgumentException(
            "Route template must be at most "
                + MAX_TEMPLATE_LENGTH
                + " characters (the longest endpoint label value), but has "
                + text.length()
                + ": \""
                + text.substring(0, 64)
                + "...\"");
      }
      String body =
          text.length() > 1 && text.endsWith("/")
              ? text.substring(1, text.length() - 1)
              : text.substring(1);
      String[] parts = body.isEmpty() ? new String[0] : body.split("/", -1);
      String[] segments = new String[parts.length];
      int literals = 0;
      for (int i = 0; i < parts.length; i++) {
        String part = parts[i];
        if (part.isEmpty()) {
          throw new IllegalArgumentException(
              "Route template has an empty segment: \"" + text + "\"");
        }
        boolean opens = part.indexOf('{') >= 0;
        boolean closes = part.indexOf('}') >= 0;
        if (opens || closes) {
          if (part.length() < 3
              || part.charAt(0) != '{'
              || part.charAt(part.length() - 1) != '}'
              || part.indexOf('{', 1) >= 0
              || part.indexOf('}') != part.length() - 1) {
            throw new IllegalArgumentException(
                "Route template variable must be a whole segment like {id}: \"" + text + "\"");
          }
          segments[i] = null;
        } else {
          segments[i] = part;
          literals++;
        }
      }
      return new Template(text, segments, literals);
    }

    boolean matches(String path) {
      int length = path.length();
      if (length == 0 || path.charAt(0) != '/') {
        return false;
      }
      if (length > 1 && path.charAt(length - 1) == '/') {
        length--;
      }
      int position = 1;
      if (segments.length == 0) {
        return length == 1;
      }
      for (String segment : segments) {
        if (position > length) {
          return false;
        }
        int end = path.indexOf('/', position);
        if (end < 0 || end > length) {
          end = length;
        }
        int segmentLength = end - position;
        if (segmentLength == 0) {
          return false;
        }
        if (segment != null
            && (segment.length() != segmentLength
                || !path.regionMatches(position, segment, 0, segmentLength))) {
          return false;
        }
        position = end + 1;
      }
      return position > length;
    }
  }
}

package io.conea.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guide's four LogQL queries (ログクエリ例, copied verbatim to guide/logql-queries.logql) against the
 * demo's real log lines.
 *
 * <p>The queries are parsed with Grafana's own LogQL grammar (@grafana/lezer-logql, installed from
 * monitoring/logql/package-lock.json and run by monitoring/logql/parse.mjs with Node.js): none may
 * have a syntax error. The demo jar runs as a child process and gets a known mix of requests, each
 * with its own W3C trace id so that its lines can be told apart. Its stdout, one JSON line per
 * event, goes through the model of the shipped Fluent Bit configuration (the Loki stream labels and
 * line of each record, {@link FluentBitConfig#ship}), and each query, as the grammar's syntax tree
 * structures it, is evaluated on the resulting Loki entries with Loki's semantics ({@link LogQl}).
 * The selected lines are then compared with what the mix says they must be.
 *
 * <p>Node.js and npm are optional locally (the query tests are skipped without them) and required
 * under CI, like the other tools of this module.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LogQueriesIT {

  /** One request of the mix: where it goes, who sends it, what it must answer. */
  record Call(
      String name,
      boolean netty,
      String method,
      String pathAndQuery,
      String body,
      String userId,
      String organizationId,
      int status) {

    String path() {
      int query = pathAndQuery.indexOf('?');
      return query < 0 ? pathAndQuery : pathAndQuery.substring(0, query);
    }
  }

  private static final String USER = "user_123";

  private static final List<Call> MIX =
      List.of(
          new Call("health (Jetty)", false, "GET", "/api/v1/health", null, null, null, 200),
          new Call("health (Netty)", true, "GET", "/api/v1/health", null, null, null, 200),
          new Call(
              "user_123's profile", false, "GET", "/api/v1/users/42", null, USER, "org_456", 200),
          new Call(
              "user_123's profile (Netty)", true, "GET", "/api/v1/users/43", null, USER, null, 200),
          new Call(
              "user_123's chat",
              true,
              "POST",
              "/api/v1/ai/chat",
              "{\"model\":\"gpt-4\",\"provider\":\"openai\",\"prompt\":\"Write a haiku about observability.\"}",
              USER,
              "org_456",
              200),
          new Call("another user", false, "GET", "/api/v1/users/7", null, "user_456", null, 200),
          new Call(
              "\"error\" in the path",
              false,
              "GET",
              "/api/v1/users/error_report",
              null,
              null,
              null,
              200),
          new Call("failure (Jetty)", false, "GET", "/api/v1/fail", null, null, null, 500),
          new Call(
              "user_123's failure (Netty)", true, "GET", "/api/v1/fail", null, USER, null, 500),
          new Call("slow", false, "GET", "/api/v1/slow?ms=1100", null, null, null, 200),
          new Call("not slow", true, "GET", "/api/v1/slow?ms=20", null, null, null, 200),
          new Call("no route", false, "GET", "/api/v1/nope", null, null, null, 404),
          new Call("job", true, "POST", "/api/v1/jobs/etl", "", null, null, 202),
          new Call("failing job", false, "POST", "/api/v1/jobs/etl?fail=true", "", null, null, 202),
          new Call(
              "malformed chat", false, "POST", "/api/v1/ai/chat", "{not json", null, null, 400));

  /** The guide's queries, in the order of its code block. */
  private static final int ERRORS = 0;

  private static final int USER_LOGS = 1;
  private static final int SLOW = 2;
  private static final int SERVER_ERRORS = 3;

  /** README's variant of the 5xx query that counts each failed request once. */
  private static final String REQUEST_LINES_5XX =
      "sum by (status) (rate({app=\"conea-api\"} | json | status >= 500 | duration_ms != \"\" [5m]))";

  private static final int REQUEST_LINES = 4;

  private static final List<String> TITLES =
      List.of("エラーログの検索", "特定ユーザーのログ", "レスポンスタイムが遅いリクエスト", "5xxエラーの集計");

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  /** The trace id each call was sent with. */
  private final Map<String, Call> callsByTraceId = new LinkedHashMap<>();

  /** Every stdout line of the demo, as written and parsed. */
  private final List<String> rawLines = new ArrayList<>();

  private final List<JsonNode> lines = new ArrayList<>();

  /** The Loki entries the shipped Fluent Bit configuration makes of them, in the same order. */
  private final List<LogQl.Entry> entries = new ArrayList<>();

  private ArrayNode parsed;
  private List<LogQl.Query> queries;
  private Path tempDir;

  @BeforeAll
  void runTheDemoWithTheMix(@TempDir Path tempDir) throws Exception {
    this.tempDir = tempDir;
    Path jar =
        Path.of(System.getProperty("demo.jar", "../examples/demo-service/target/conea-demo.jar"));
    Path stdout = tempDir.resolve("demo-stdout.log");
    Path stderr = tempDir.resolve("demo-stderr.log");
    try (Demo demo = Demo.start(jar, stdout, stderr, http)) {
      for (Call call : MIX) {
        String traceId = HexFormat.of().formatHex(randomBytes(16));
        callsByTraceId.put(traceId, call);
        send(demo, call, traceId);
      }
      // The jobs log 20 ms after their answer; then SIGTERM, which flushes what is in flight.
      DemoProcess.pause(Duration.ofMillis(500));
      demo.stop();
    }
    FluentBitConfig fluentBit =
        KubernetesAssetsTest.fluentBit(KubernetesAssetsTest.fluentBitConfigMap());
    for (String line : Files.readAllLines(stdout, StandardCharsets.UTF_8)) {
      rawLines.add(line);
      try {
        lines.add(Assets.JSON.readTree(line));
      } catch (JsonProcessingException e) {
        fail(
            "the demo wrote a stdout line that is not JSON: %s (%s)", line, e.getOriginalMessage());
      }
      FluentBitConfig.LokiEntry shipped = fluentBit.ship(KubernetesAssetsTest.criRecord(line));
      entries.add(new LogQl.Entry(shipped.labels(), shipped.line()));
    }
    System.out.printf("The demo wrote %d lines for %d requests:%n", lines.size(), MIX.size());
    lines.forEach(System.out::println);
  }

  // ---------------------------------------------------------------- the queries

  @Test
  void theGuidesQueriesParseWithGrafanasLogQlGrammar() {
    List<Assets.Query> guide = Assets.guideQueries("logql-queries.logql");
    ArrayNode results = parsed();

    assertThat(guide).extracting(Assets.Query::name).containsExactlyElementsOf(TITLES);
    assertThat(results).hasSize(TITLES.size() + 1);
    for (JsonNode result : results) {
      assertThat(result.path("errors")).as(result.path("name").asText()).isEmpty();
      LogQl.Node tree = LogQl.Node.of(result.path("tree"));
      // Every query selects the conea-api stream and parses its lines with | json.
      assertThat(tree.all("Selector")).hasSize(1);
      assertThat(tree.all("Json")).as(result.path("name").asText()).hasSize(1);
      assertThat(tree.all("Matcher").get(0).toString())
          .isEqualTo("Matcher[Identifier[app], Eq[=], String[\"conea-api\"]]");
    }
  }

  @Test
  void theErrorQuerySelectsExactlyTheErrorLevelLines() {
    List<JsonNode> selected = select(ERRORS);

    assertThat(selected).isEqualTo(linesWhere(line -> line.path("level").asText().equals("error")));
    assertThat(traceIds(selected))
        .containsExactlyInAnyOrderElementsOf(traceIdsOf(call -> call.status() >= 500));
    assertThat(selected).hasSize(2);
    for (JsonNode line : selected) {
      assertThat(line.path("status").isIntegralNumber()).as(line.toString()).isTrue();
      assertThat(line.path("status").asInt()).isEqualTo(500);
      assertThat(line.path("path").asText()).isEqualTo("/api/v1/fail");
    }
    // |= "error" alone also lets through a line with "error" anywhere; | json | level="error"
    // keeps the error-level ones only.
    JsonNode errorInPath = accessLine(traceIdOf("\"error\" in the path"));
    assertThat(errorInPath.toString()).contains("error");
    assertThat(selected).doesNotContain(errorInPath);
    print(ERRORS, selected);
  }

  @Test
  void theUserQuerySelectsTheLinesOfUser123sRequests() {
    List<JsonNode> selected = select(USER_LOGS);
    Set<String> user123 = traceIdsOf(call -> USER.equals(call.userId()));

    assertThat(selected)
        .isEqualTo(linesWhere(line -> user123.contains(line.path("trace_id").asText())));
    assertThat(selected).isEqualTo(linesWhere(line -> line.path("user_id").asText().equals(USER)));
    assertThat(traceIds(selected)).containsExactlyInAnyOrderElementsOf(user123);
    // user_123's error line and the AI line of the chat are among them.
    assertThat(selected)
        .anySatisfy(line -> assertThat(line.path("level").asText()).isEqualTo("error"));
    assertThat(selected)
        .anySatisfy(line -> assertThat(line.at("/metadata/model").asText()).isEqualTo("gpt-4"));
    print(USER_LOGS, selected);
  }

  @Test
  void theSlowQuerySelectsTheSlowRequest() {
    List<JsonNode> selected = select(SLOW);
    JsonNode slow = accessLine(traceIdOf("slow"));

    assertThat(selected).contains(slow);
    assertThat(selected)
        .isEqualTo(
            linesWhere(
                line ->
                    line.path("duration_ms").isNumber()
                        && line.path("duration_ms").asDouble() > 1000));
    assertThat(slow.path("duration_ms").isIntegralNumber()).isTrue();
    assertThat(slow.path("duration_ms").asLong()).isGreaterThanOrEqualTo(1100);
    assertThat(selected).doesNotContain(accessLine(traceIdOf("not slow")));
    print(SLOW, selected);
  }

  @Test
  void theServerErrorQueryCountsThe500LinesByStatus() {
    LogQl.SumByRate query = (LogQl.SumByRate) queries().get(SERVER_ERRORS);
    List<JsonNode> selected = selected(query.logQuery());

    assertThat(selected)
        .isEqualTo(
            linesWhere(
                line -> line.path("status").isNumber() && line.path("status").asInt() >= 500));
    // The error line and the request line of each failed request.
    assertThat(traceIds(selected))
        .containsExactlyInAnyOrderElementsOf(traceIdsOf(call -> call.status() >= 500));
    assertThat(selected).hasSize(4);
    assertThat(query.by()).containsExactly("status");
    assertThat(query.range()).isEqualTo(Duration.ofMinutes(5));
    // Evaluated when the last line is written, the 5m range holds every line of the run.
    assertThat(Duration.between(timestamp(lines.get(0)), timestamp(lines.get(lines.size() - 1))))
        .isLessThan(query.range());
    Map<Map<String, String>, Double> series = query.evaluate(entries);
    assertThat(series).containsOnlyKeys(Map.of("status", "500"));
    assertThat(series.get(Map.of("status", "500"))).isCloseTo(4 / 300.0, within(1e-12));
    print(SERVER_ERRORS, selected);
    System.out.printf("  => %s%n", series);
  }

  @Test
  void readmesVariantOfThe5xxQueryCountsEachFailedRequestOnce() {
    LogQl.SumByRate query = (LogQl.SumByRate) queries().get(REQUEST_LINES);

    assertThat(traceIds(selected(query.logQuery())))
        .containsExactlyInAnyOrderElementsOf(traceIdsOf(call -> call.status() >= 500));
    assertThat(selected(query.logQuery())).hasSize(2);
    assertThat(query.evaluate(entries)).containsOnlyKeys(Map.of("status", "500"));
    assertThat(query.evaluate(entries).get(Map.of("status", "500")))
        .isCloseTo(2 / 300.0, within(1e-12));
  }

  // ---------------------------------------------------------------- the lines

  @Test
  void fluentBitShipsEveryLineVerbatimInTheConeaApiStream() {
    assertThat(entries).hasSize(lines.size());
    for (LogQl.Entry entry : entries) {
      assertThat(entry.stream()).containsEntry("app", "conea-api");
    }
    assertThat(entries.stream().map(LogQl.Entry::line).toList()).isEqualTo(rawLines);
  }

  @Test
  void everyLineIsInTheGuidesSchemaWithNumbersAsNumbers() {
    assertThat(lines).isNotEmpty();
    for (JsonNode line : lines) {
      assertThat(line.isObject()).isTrue();
      assertThat(line.path("timestamp").asText()).as(line.toString()).isNotEmpty();
      assertThat(line.path("level").asText()).isIn("trace", "debug", "info", "warn", "error");
      assertThat(line.path("service").asText()).isEqualTo("conea-api");
      assertThat(line.path("message").isTextual()).isTrue();
      for (String number : List.of("status", "duration_ms")) {
        if (line.has(number)) {
          assertThat(line.path(number).isIntegralNumber()).as(number + " in " + line).isTrue();
        }
      }
      if (line.has("trace_id")) {
        assertThat(line.path("trace_id").asText()).matches("[0-9a-f]{32}");
        assertThat(line.path("span_id").asText()).matches("[0-9a-f]{16}");
      }
    }
  }

  @Test
  void everyRequestHasALineWithTheFieldsTheQueriesFilterOn() {
    callsByTraceId.forEach(
        (traceId, call) -> {
          JsonNode line = accessLine(traceId);
          assertThat(line.path("method").asText()).as(call.name()).isEqualTo(call.method());
          assertThat(line.path("path").asText()).as(call.name()).isEqualTo(call.path());
          assertThat(line.path("status").asInt()).as(call.name()).isEqualTo(call.status());
          assertThat(line.path("duration_ms").asLong()).as(call.name()).isNotNegative();
          assertThat(line.path("user_id").asText(null)).as(call.name()).isEqualTo(call.userId());
          assertThat(line.path("organization_id").asText(null))
              .as(call.name())
              .isEqualTo(call.organizationId());
        });
  }

  @Test
  void nestedFieldsAreFlattenedTheWayLokisJsonParserDoes() {
    JsonNode chatLine =
        linesWhere(line -> line.path("message").asText().equals("AI chat request completed"))
            .get(0);
    LogQl.Entry entry = entries.get(lines.indexOf(chatLine));

    Map<String, String> labels = LogQl.json(entry.line(), entry.stream().keySet());
    assertThat(labels)
        .containsEntry("metadata_model", "gpt-4")
        .containsEntry("metadata_provider", "openai")
        .containsEntry("status", "200")
        .containsEntry("user_id", USER)
        .containsKeys("metadata_tokens", "metadata_cost", "duration_ms")
        .doesNotContainKeys("metadata", "model", LogQl.ERROR_LABEL);
    System.out.printf("| json of %s%n  => %s%n", entry.line(), labels);
  }

  // ---------------------------------------------------------------- helpers

  /** The guide's queries, parsed by Grafana's grammar (once). */
  private List<LogQl.Query> queries() {
    if (queries == null) {
      List<LogQl.Query> parsed = new ArrayList<>();
      for (JsonNode result : parsed()) {
        assertThat(result.path("errors")).as(result.path("name").asText()).isEmpty();
        parsed.add(LogQl.Query.of(LogQl.Node.of(result.path("tree"))));
      }
      queries = parsed;
    }
    return queries;
  }

  private List<JsonNode> select(int query) {
    return selected((LogQl.LogQuery) queries().get(query));
  }

  private List<JsonNode> selected(LogQl.LogQuery query) {
    List<JsonNode> selected = new ArrayList<>();
    for (LogQl.Selected entry : query.select(entries)) {
      assertThat(entry.error()).as("pipeline error on " + entry.entry().line()).isEmpty();
      selected.add(json(entry.entry().line()));
    }
    return selected;
  }

  /**
   * Runs parse.mjs with Grafana's grammar on the guide's queries (once; installs the grammar first
   * if needed).
   */
  private ArrayNode parsed() {
    if (parsed != null) {
      return parsed;
    }
    List<Assets.Query> guide = Assets.guideQueries("logql-queries.logql");
    Path node = Tools.require("node", "nodejs");
    try {
      // npm takes a symbolic link for a package of its own: give it the directory itself.
      Path logql = Assets.root().resolve("logql").toRealPath();
      installGrammar(logql);
      ArrayNode input = Assets.JSON.createArrayNode();
      guide.forEach(q -> input.addObject().put("name", q.name()).put("query", q.expr()));
      input.addObject().put("name", "README: 5xx request lines").put("query", REQUEST_LINES_5XX);
      Path in = Files.writeString(tempDir.resolve("queries.json"), input.toString());
      Path out = tempDir.resolve("parsed.json");
      Tools.Result result = Tools.run(logql, Duration.ofSeconds(60), node, "parse.mjs", in, out);
      assertThat(result.exitCode()).as(result.output()).isZero();
      System.out.println("parse.mjs (@grafana/lezer-logql):\n" + result.output());
      parsed = (ArrayNode) Assets.JSON.readTree(out.toFile());
      assertThat(parsed).hasSize(guide.size() + 1);
      return parsed;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * {@code npm ci} from the committed lock file, when node_modules is missing or holds another
   * version of the grammar than the lock file names.
   */
  private static void installGrammar(Path logql) {
    Path installed = logql.resolve("node_modules/@grafana/lezer-logql/package.json");
    String locked =
        Assets.json(logql.resolve("package-lock.json"))
            .path("packages")
            .path("node_modules/@grafana/lezer-logql")
            .path("version")
            .asText();
    if (Files.isRegularFile(installed)
        && Assets.json(installed).path("version").asText().equals(locked)) {
      return;
    }
    Path npm = Tools.require("npm", "npm");
    Tools.Result result =
        Tools.run(
            logql,
            Duration.ofMinutes(5),
            npm,
            "ci",
            "--prefix",
            logql,
            "--no-audit",
            "--no-fund",
            "--loglevel=error");
    assertThat(result.exitCode()).as("npm ci in %s:%n%s", logql, result.output()).isZero();
  }

  private List<JsonNode> linesWhere(Predicate<JsonNode> condition) {
    return lines.stream().filter(condition).toList();
  }

  private Set<String> traceIdsOf(Predicate<Call> condition) {
    return callsByTraceId.entrySet().stream()
        .filter(e -> condition.test(e.getValue()))
        .map(Map.Entry::getKey)
        .collect(Collectors.toSet());
  }

  private String traceIdOf(String name) {
    return traceIdsOf(call -> call.name().equals(name)).iterator().next();
  }

  private static Set<String> traceIds(List<JsonNode> selected) {
    return selected.stream()
        .map(line -> line.path("trace_id").asText())
        .collect(Collectors.toSet());
  }

  /** The demo's one line per request (the access log line) of the request with this trace id. */
  private JsonNode accessLine(String traceId) {
    Call call = callsByTraceId.get(traceId);
    String message = call.method() + " " + call.path() + " " + call.status() + " ";
    List<JsonNode> found =
        linesWhere(
            line ->
                line.path("trace_id").asText().equals(traceId)
                    && line.path("message").asText().startsWith(message)
                    && line.has("duration_ms"));
    assertThat(found).as("the request line of " + call.name()).hasSize(1);
    return found.get(0);
  }

  private JsonNode json(String line) {
    try {
      return Assets.JSON.readTree(line);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Instant timestamp(JsonNode line) {
    return Instant.parse(line.path("timestamp").asText());
  }

  private static void print(int query, List<JsonNode> selected) {
    System.out.printf(
        "%s: %s%n",
        TITLES.get(query), Assets.guideQueries("logql-queries.logql").get(query).expr());
    selected.forEach(line -> System.out.println("  " + line));
  }

  private void send(Demo demo, Call call, String traceId) throws IOException, InterruptedException {
    String spanId = HexFormat.of().formatHex(randomBytes(8));
    HttpRequest.Builder request =
        HttpRequest.newBuilder(demo.uri(call.netty(), call.pathAndQuery()))
            .timeout(Duration.ofSeconds(20))
            .header("traceparent", "00-" + traceId + "-" + spanId + "-01")
            .method(
                call.method(),
                call.body() == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(call.body()));
    if (call.userId() != null) {
      request.header("X-User-Id", call.userId());
    }
    if (call.organizationId() != null) {
      request.header("X-Organization-Id", call.organizationId());
    }
    HttpResponse<String> response =
        http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode())
        .as(call.name() + ": " + response.body())
        .isEqualTo(call.status());
  }

  private static byte[] randomBytes(int length) {
    byte[] bytes = new byte[length];
    ThreadLocalRandom.current().nextBytes(bytes);
    return bytes;
  }

  /** The demo jar as a child process, its stdout (the JSON lines) kept apart from its stderr. */
  private static final class Demo implements AutoCloseable {

    private final Process process;
    private final int servletPort;
    private final int nettyPort;
    private final Path stdout;
    private final Path stderr;

    private Demo(Process process, int servletPort, int nettyPort, Path stdout, Path stderr) {
      this.process = process;
      this.servletPort = servletPort;
      this.nettyPort = nettyPort;
      this.stdout = stdout;
      this.stderr = stderr;
    }

    static Demo start(Path jar, Path stdout, Path stderr, HttpClient http) throws IOException {
      if (!Files.isRegularFile(jar)) {
        return fail(
            "demo jar %s is missing; build it with: mvn -B -q -DskipTests -pl examples/demo-service"
                + " -am package",
            jar);
      }
      int servletPort = DemoProcess.freePort();
      int nettyPort = DemoProcess.freePort();
      ProcessBuilder builder =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-Xmx256m",
                  "-jar",
                  jar.toString())
              .redirectOutput(stdout.toFile())
              .redirectError(stderr.toFile());
      // No collector and the default service name, whatever the build's environment says.
      builder.environment().keySet().removeIf(name -> name.startsWith("OTEL_"));
      builder.environment().put("CONEA_DEMO_SERVLET_PORT", Integer.toString(servletPort));
      builder.environment().put("CONEA_DEMO_NETTY_PORT", Integer.toString(nettyPort));
      Demo demo = new Demo(builder.start(), servletPort, nettyPort, stdout, stderr);
      try {
        demo.awaitHealthy(http, false);
        demo.awaitHealthy(http, true);
      } catch (RuntimeException | Error e) {
        demo.close();
        throw e;
      }
      return demo;
    }

    URI uri(boolean netty, String pathAndQuery) {
      return URI.create("http://127.0.0.1:" + (netty ? nettyPort : servletPort) + pathAndQuery);
    }

    private void awaitHealthy(HttpClient http, boolean netty) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      HttpRequest health =
          HttpRequest.newBuilder(uri(netty, "/api/v1/health"))
              .timeout(Duration.ofSeconds(2))
              .build();
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          fail("the demo exited with %d:%n%s", process.exitValue(), output());
        }
        try {
          if (http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
            return;
          }
        } catch (IOException e) {
          // Not listening yet.
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          fail("interrupted while waiting for the demo");
        }
        DemoProcess.pause(Duration.ofMillis(100));
      }
      fail("the demo did not answer within 60 s:%n%s", output());
    }

    /** SIGTERM: requests in flight and scheduled jobs finish, the output is flushed. */
    void stop() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        fail("the demo did not stop within 30 s of SIGTERM:%n%s", output());
      }
    }

    private String output() {
      try {
        return Files.readString(stdout) + Files.readString(stderr);
      } catch (IOException e) {
        return "(demo output unreadable: " + e + ")";
      }
    }

    @Override
    public void close() {
      if (process.isAlive()) {
        process.destroyForcibly();
        try {
          process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}

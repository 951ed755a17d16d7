package io.conea.benchmarks;

import org.openjdk.jmh.annotations.Threads;

/**
 * {@link HttpRecordBenchmark} with two threads recording into the same meters at once, where
 * contention on shared counters and caches shows.
 */
@Threads(2)
public class HttpRecordTwoThreadsBenchmark extends HttpRecordBenchmark {}

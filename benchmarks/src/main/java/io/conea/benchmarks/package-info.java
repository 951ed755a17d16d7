/**
 * JMH benchmarks of conea's recording hot paths, each beside the alternatives a service would use
 * instead; not API and not published.
 *
 * <p>Benchmark and state classes are public and not final because JMH's generated code subclasses
 * them.
 */
package io.conea.benchmarks;

/** Conea metrics. */
package io.conea.metrics;

/** Conea tracing. */
package io.conea.tracing;

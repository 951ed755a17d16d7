/** Conea logging. */
package io.conea.logging;

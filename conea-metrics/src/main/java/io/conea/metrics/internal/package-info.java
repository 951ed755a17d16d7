/**
 * Code that conea's modules share and that is not API: its types are public only so that the other
 * conea modules can use them, and they may change or go away in any release. Do not use them.
 */
@NullMarked
package io.conea.metrics.internal;

import org.jspecify.annotations.NullMarked;

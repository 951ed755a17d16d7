/**
 * conea-report: the monitoring guide's automation script ({@code monitoring_automation.py}) as a
 * command-line tool. {@link io.conea.report.ConeaReport} runs its commands: {@code slo} (SLO
 * compliance, error budget and burn rate), {@code capacity} (CPU, memory and disk usage from node
 * exporter) and {@code alerts} (the firing alerts of an Alertmanager).
 */
@NullMarked
package io.conea.report;

import org.jspecify.annotations.NullMarked;

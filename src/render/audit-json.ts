// `audit --format json`: one document, stable field names, for machines.
import type { AuditReport } from '../audit/run.js';

export function auditDocument(report: AuditReport): Record<string, unknown> {
  return {
    runId: report.runId,
    schemaVersion: report.schemaVersion,
    account: report.account,
    startedAt: report.startedAt,
    durationMs: report.durationMs,
    failOn: report.failOn,
    passed: report.passed,
    exitCode: report.exitCode,
    failure: report.failure,
    totals: report.totals,
    ...(report.incremental ? { incremental: report.incremental } : {}),
    checks: report.checks.map((check) => ({
      id: check.id,
      severity: check.severity,
      status: check.status,
      count: check.count,
      suppressed: check.suppressed,
      title: check.title,
      repairable: check.repairable,
      remedy: check.remedy,
      samples: check.samples,
      ...(check.enforcedBy ? { enforcedBy: check.enforcedBy } : {}),
      ...(check.reason ? { reason: check.reason } : {}),
      ...(check.error ? { error: check.error } : {}),
      notes: check.notes,
      durationMs: check.durationMs,
    })),
  };
}

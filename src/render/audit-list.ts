// `audit --list` and `audit --history` for people.
import type { RecordedRun } from '../audit/history.js';
import type { PruneResult } from '../audit/prune.js';
import type { Rule } from '../rules/types.js';
import { renderTable } from './table.js';
import { plural } from './text.js';

/** What `audit --list` says of a rule (also its JSON). */
export function listEntry(rule: Rule, enabled: boolean) {
  const { id, severity, title, remedy } = rule;
  return { id, severity, title, repairable: rule.repair !== undefined, enabled, remedy };
}

export function renderCheckList(entries: ReadonlyArray<ReturnType<typeof listEntry>>, width: number): string {
  return renderTable(
    ['check', 'severity', 'repair', 'title'],
    entries.map((check) => [check.id, check.enabled ? check.severity : `${check.severity} (disabled)`, check.repairable ? 'yes' : 'no', check.title]),
    { width },
  );
}

export function renderHistory(runs: readonly RecordedRun[], width: number): string[] {
  if (runs.length === 0) return ['no recorded runs: `igny8 audit --record` adds one'];
  return [
    renderTable(
      ['run', 'started', 'exit', 'findings'],
      runs.map((run) => [
        run.runId,
        run.startedAt,
        run.exitCode,
        Object.entries(run.counts)
          .filter(([, count]) => count > 0)
          .map(([id, count]) => `${id}=${count}`)
          .join(', ') || 'none',
      ]),
      { width },
    ),
  ];
}

export function renderPrune(result: PruneResult): string {
  const parts = Object.entries(result.deleted).map(([table, n]) => `${table} ${n}`);
  return `pruned history older than ${plural(result.olderThanDays, 'day')} (before ${result.cutoff.toISOString().slice(0, 19).replace('T', ' ')}): ${parts.length > 0 ? parts.join(', ') : 'nothing'}`;
}

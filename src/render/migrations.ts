// How migration runs and status look to a person, wrapped to the output width.
import type { ChalkInstance } from 'chalk';
import type { DatabasePhase, MigrationRunResult, MigrationStatusRow } from '../db/migrator.js';
import type { PlanEntry } from '../db/plan.js';
import { wrapText } from './text.js';

const MARK: Record<MigrationRunResult['status'], string> = {
  applied: '✓',
  reverted: '↶',
  'rolled back': '○',
  failed: '✗',
  'not run': '·',
};

/** Wraps plain text to the width, then paints each line (colour codes never count as width). */
function fitted(text: string, width: number, paint: (line: string) => string = (line) => line): string[] {
  return wrapText(text, width).map((line) => paint(line));
}

/** One migration's result: its line, its notes, and its error when it failed. */
export function renderRunResult(result: MigrationRunResult, color: ChalkInstance, width: number): string[] {
  const paint = result.status === 'failed' ? color.red : result.status === 'not run' ? color.dim : color.green;
  return [
    ...fitted(`${MARK[result.status]} ${result.name}  ${result.status}${result.status === 'not run' ? '' : ` (${formatDuration(result.durationMs)})`}`, width, paint),
    ...result.notes.flatMap((note) => fitted(`    ${note}`, width)),
    ...(result.error
      ? [...fitted(`    ${result.error.message}`, width, color.red), ...result.error.details.flatMap((line) => fitted(`    ${line}`, width))]
      : []),
  ];
}

/** The closing line of a run: how many migrations ended in each state. */
export function renderRunSummary(results: MigrationRunResult[]): string {
  const counts = new Map<string, number>();
  for (const result of results) counts.set(result.status, (counts.get(result.status) ?? 0) + 1);
  return [...counts].map(([status, count]) => `${count} ${status}`).join(', ');
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function renderStatus(rows: MigrationStatusRow[], color: ChalkInstance, width: number): string[] {
  const lines = rows.flatMap((row) => {
    if (row.missingFile) return fitted(`? ${row.name}  applied, but igny8 has no migration of that name`, width, color.yellow);
    if (row.skipped) return fitted(`! ${row.name}  pending (${row.phase}), though a later ${row.phase} migration is applied`, width, color.yellow);
    if (row.progress) {
      return fitted(`▸ ${row.name}  in progress (${row.phase}, batched): ${row.progress.rows.toLocaleString('en-US')} rows done; \`igny8 migrate\` resumes it`, width, color.yellow);
    }
    if (row.state === 'pending') return fitted(`· ${row.name}  pending (${row.phase})`, width, color.dim);
    const when = row.appliedAt ? ` ${row.appliedAt.toISOString()}` : '';
    if (row.changed) {
      // A checksum is one 64-character word: short labels keep it whole within 80 columns.
      return [
        ...fitted(`! ${row.name}  applied${when}, file changed since`, width, color.yellow),
        color.yellow(`    applied  ${row.appliedChecksum}`),
        color.yellow(`    file now ${row.checksum}`),
      ];
    }
    if (row.olderChecksum) {
      return fitted(`✓ ${row.name}  applied${when} (by an older igny8, whose checksum is not comparable)`, width, color.green);
    }
    return fitted(`✓ ${row.name}  applied${when}`, width, color.green);
  });
  const pending = rows.filter((row) => row.state === 'pending').length;
  const changed = rows.filter((row) => row.changed).length;
  const unknown = rows.filter((row) => row.missingFile).length;
  const skipped = rows.filter((row) => row.skipped).length;
  const problems = [
    changed ? `${changed} changed since applied` : '',
    unknown ? `${unknown} unknown` : '',
    skipped ? `${skipped} skipped` : '',
  ].filter(Boolean);
  lines.push('', [`${rows.length - pending} applied, ${pending} pending`, ...problems].join(', '));
  return lines;
}

/** Where the database stands in the rollout, and the next step. */
export function renderPhase(phase: DatabasePhase, rows: MigrationStatusRow[], width: number): string[] {
  const pending = (which: 'expand' | 'contract') => rows.filter((row) => row.state === 'pending' && row.phase === which).length;
  const text: Record<DatabasePhase, string> = {
    empty: 'phase: empty (no migration applied): `igny8 migrate` creates the schema',
    'expand pending':
      `phase: expand pending (${pending('expand')} expand, ${pending('contract')} contract migrations pending): ` +
      '`igny8 migrate --phase expand` runs while the legacy application keeps serving',
    expanded:
      `phase: expanded (${pending('contract')} contract migrations pending): both applications work; ` +
      'deploy the new application, then `igny8 migrate --phase contract`',
    complete: 'phase: complete (nothing pending)',
  };
  return wrapText(text[phase], width);
}

const rowsText = (rows: number | null) => (rows === null ? 'rows unknown' : `~${rows.toLocaleString('en-US')} rows`);

/** `migrate --plan`: each pending migration, its locks and what it does under them. */
export function renderPlan(entries: PlanEntry[], color: ChalkInstance, width: number): string[] {
  if (entries.length === 0) return ['nothing to do: no migration is pending'];
  const lines: string[] = [];
  for (const entry of entries) {
    lines.push(...fitted(`${entry.name}  ${entry.phase}${entry.batched ? ', batched' : ''}`, width, color.bold));
    lines.push(...fitted(`    ${entry.description}`, width));
    if (entry.locksUndeclared) lines.push(...fitted('    locks not declared: the plan cannot say what it locks', width, color.yellow));
    for (const lock of entry.locks) {
      const blocks = lock.blocksReads ? 'blocks reads and writes' : lock.blocksWrites ? 'blocks writes' : 'blocks neither reads nor writes';
      const work = lock.work === 'none' ? 'catalog only' : lock.bounded ? `${lock.work} (${lock.bounded})` : lock.work;
      const paint = lock.blocksWrites && lock.work !== 'none' && !lock.bounded ? color.yellow : (line: string) => line;
      lines.push(...fitted(`    ${lock.table}: ${lock.mode} (${blocks}), ${work}, ${rowsText(lock.rows)}`, width, paint));
    }
    for (const backfill of entry.backfills) {
      lines.push(...fitted(`    backfill of ${backfill.table} in batches of short transactions, ${rowsText(backfill.rows)}`, width));
    }
    for (const index of entry.concurrentIndexes) lines.push(...fitted(`    index ${index} built concurrently`, width));
    for (const warning of entry.warnings) lines.push(...fitted(`    ! ${warning}`, width, color.yellow));
    if (entry.irreversible) lines.push(...fitted(`    irreversible: ${entry.irreversible}`, width, color.dim));
  }
  const warned = entries.filter((entry) => entry.warnings.length > 0).length;
  lines.push('', `${entries.length} pending; ${warned} hold a lock that blocks writes while working through rows`);
  return lines;
}

// How migration runs and status look to a person.
import type { ChalkInstance } from 'chalk';
import type { MigrationRunResult, MigrationStatusRow } from '../db/migrator.js';

const MARK: Record<MigrationRunResult['status'], string> = {
  applied: '✓',
  reverted: '↶',
  'rolled back': '○',
  failed: '✗',
  'not run': '·',
};

/** One migration's result: its line, its notes, and its error when it failed. */
export function renderRunResult(result: MigrationRunResult, color: ChalkInstance): string[] {
  const paint = (text: string) =>
    result.status === 'failed' ? color.red(text) : result.status === 'not run' ? color.dim(text) : color.green(text);
  return [
    paint(`${MARK[result.status]} ${result.name}  ${result.status}${result.status === 'not run' ? '' : ` (${formatDuration(result.durationMs)})`}`),
    ...result.notes.map((note) => `    ${note}`),
    ...(result.error ? [color.red(`    ${result.error.message}`), ...result.error.details.map((line) => `    ${line}`)] : []),
  ];
}

export function renderRunResults(
  results: MigrationRunResult[],
  color: ChalkInstance,
  nothingToDo = 'nothing to do: every migration is applied',
): string[] {
  if (results.length === 0) return [nothingToDo];
  return results.flatMap((result) => renderRunResult(result, color));
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

export function renderStatus(rows: MigrationStatusRow[], color: ChalkInstance): string[] {
  const lines = rows.map((row) => {
    if (row.missingFile) return color.yellow(`? ${row.name}  applied, but its file is missing`);
    if (row.state === 'pending') return color.dim(`· ${row.name}  pending`);
    const when = row.appliedAt ? ` ${row.appliedAt.toISOString()}` : '';
    if (row.changed) {
      return color.yellow(
        `! ${row.name}  applied${when}, file changed since\n    applied checksum ${row.appliedChecksum}\n    file checksum    ${row.checksum}`,
      );
    }
    return color.green(`✓ ${row.name}  applied${when}`);
  });
  const pending = rows.filter((row) => row.state === 'pending').length;
  const changed = rows.filter((row) => row.changed).length;
  lines.push('', `${rows.length - pending} applied, ${pending} pending${changed ? `, ${changed} changed since applied` : ''}`);
  return lines;
}

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

export function renderRunResults(results: MigrationRunResult[], color: ChalkInstance): string[] {
  if (results.length === 0) return ['nothing to do: every migration is applied'];
  const paint = (result: MigrationRunResult, text: string) =>
    result.status === 'failed' ? color.red(text) : result.status === 'not run' ? color.dim(text) : color.green(text);
  return results.flatMap((result) => [
    paint(result, `${MARK[result.status]} ${result.name}  ${result.status}${result.status === 'not run' ? '' : ` (${result.durationMs} ms)`}`),
    ...result.notes.map((note) => `    ${note}`),
    ...(result.error ? [color.red(`    ${result.error.message}`), ...result.error.details.map((line) => `    ${line}`)] : []),
  ]);
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

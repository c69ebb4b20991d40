// How migration runs and status look to a person, wrapped to the output width.
import type { ChalkInstance } from 'chalk';
import type { MigrationRunResult, MigrationStatusRow } from '../db/migrator.js';
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

export function renderRunResults(results: MigrationRunResult[], color: ChalkInstance, width: number): string[] {
  if (results.length === 0) return ['nothing to do: every migration is applied'];
  const paint = (result: MigrationRunResult) =>
    result.status === 'failed' ? color.red : result.status === 'not run' ? color.dim : color.green;
  return results.flatMap((result) => [
    ...fitted(`${MARK[result.status]} ${result.name}  ${result.status}${result.status === 'not run' ? '' : ` (${result.durationMs} ms)`}`, width, paint(result)),
    ...result.notes.flatMap((note) => fitted(`    ${note}`, width)),
    ...(result.error
      ? [...fitted(`    ${result.error.message}`, width, color.red), ...result.error.details.flatMap((line) => fitted(`    ${line}`, width))]
      : []),
  ]);
}

export function renderStatus(rows: MigrationStatusRow[], color: ChalkInstance, width: number): string[] {
  const lines = rows.flatMap((row) => {
    if (row.missingFile) return fitted(`? ${row.name}  applied, but its file is missing`, width, color.yellow);
    if (row.state === 'pending') return fitted(`· ${row.name}  pending`, width, color.dim);
    const when = row.appliedAt ? ` ${row.appliedAt.toISOString()}` : '';
    if (row.changed) {
      // A checksum is one 64-character word: short labels keep it whole within 80 columns.
      return [
        ...fitted(`! ${row.name}  applied${when}, file changed since`, width, color.yellow),
        color.yellow(`    applied  ${row.appliedChecksum}`),
        color.yellow(`    file now ${row.checksum}`),
      ];
    }
    return fitted(`✓ ${row.name}  applied${when}`, width, color.green);
  });
  const pending = rows.filter((row) => row.state === 'pending').length;
  const changed = rows.filter((row) => row.changed).length;
  lines.push('', `${rows.length - pending} applied, ${pending} pending${changed ? `, ${changed} changed since applied` : ''}`);
  return lines;
}

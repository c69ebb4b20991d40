// Throwaway migration directories for testing the runner itself.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Writes ES modules `name.js` with the given bodies; returns the directory. */
export function migrationsDir(files: Record<string, MigrationBody>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'igny8-migrations-'));
  writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
  for (const [name, body] of Object.entries(files)) writeMigration(dir, name, body);
  return dir;
}

export interface MigrationBody {
  up: string;
  down?: string;
  phase?: 'expand' | 'contract';
  independent?: boolean;
}

export function writeMigration(dir: string, name: string, body: MigrationBody): void {
  const down = body.down ? `,\n  async down({ trx }) { ${body.down} }` : '';
  const phase = (body.phase ? `\n  phase: '${body.phase}',` : '') + (body.independent ? '\n  independent: true,' : '');
  writeFileSync(
    path.join(dir, `${name}.js`),
    `export default {\n  description: '${name}',${phase}\n  async up({ trx }) { ${body.up} }${down}\n};\n`,
  );
}

/** A statement for a migration body: one `await trx.raw(...)`. */
export const raw = (sql: string) => `await trx.raw(${JSON.stringify(sql)});`;

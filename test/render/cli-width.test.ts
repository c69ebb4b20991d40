// What igny8 prints, as a user sees it at 80 and 120 columns: every table and every line of
// the audit, its check list, the repair plan, migrate status, catalog show and account show
// fits the width. Piped output without COLUMNS is 100 wide. Counts read "1 check", "1 error row".
// Rendering does not depend on the database kind, so this runs on the embedded database only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/db/connect.js';
import { RULE_IDS } from '../../src/rules/registry.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { createMigratedDatabase } from '../helpers/templates.js';
import type { TestDatabase } from '../helpers/databases.js';

const PASSWORD = 'Sup3r-Secret-Pa55';
const LONG_NAME = 'Northwind Traders International Holdings for Sustainable Agricultural Consulting';

const SLUG = 'northwind-traders-international-holdings-for-sustainable-agricultural-consulting';
const DOMAIN = 'northwind-traders-international.example';

let scratch: string;
let legacyEnv: Record<string, string>;
let migrated: TestDatabase;

const longest = (text: string) => Math.max(0, ...text.split('\n').map((line) => [...line].length));

async function run(env: Record<string, string>, args: string[], options: { columns?: number; input?: string } = {}): Promise<CliResult> {
  return runCli(args, { env: { ...env, COLUMNS: options.columns === undefined ? undefined : String(options.columns) }, input: options.input });
}

beforeAll(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'igny8-width-'));
  legacyEnv = { IGNY8_DATA_DIR: path.join(scratch, 'legacy') };
  const seeded = await run(legacyEnv, ['seed', 'legacy', '--accounts', '60', '--defect-rate', '0.5', '--seed', '3']);
  expect(seeded.code, seeded.stderr).toBe(0);

  migrated = await createMigratedDatabase('pglite', { onDisk: true });
  await migrated.db.close();
  const env = migrated.env;
  const registered = await run(
    env,
    ['register', '--email', 'owner@northwind.example', '--password-stdin', '--account-name', LONG_NAME, '--plan', 'growth', '--billing-address', '1 Very Long Boulevard of the Agricultural Consultants', '--billing-city', 'Saint-Jean-sur-Richelieu'],
    { input: `${PASSWORD}\n` },
  );
  expect(registered.code, registered.stderr).toBe(0);
  // A paid signup grows once its invoice is paid.
  const invoice = /invoice\s+(INV-\d+)/.exec(registered.stdout)?.[1] ?? '';
  const paid = await run(env, ['invoice', 'pay', invoice]);
  expect(paid.code, paid.stderr).toBe(0);
  const site = await run(env, ['create-site', '--account', SLUG, '--name', LONG_NAME, '--domain', DOMAIN, '--industry', 'technology']);
  expect(site.code, site.stderr).toBe(0);
  // One credit balance off its ledger: a single error row for the plural check below.
  const db = await connect({ dataDir: migrated.dataDir });
  await db.knex('igny8_accounts').increment('credits', 3);
  await db.close();
}, 180_000);

afterAll(async () => {
  await migrated?.drop().catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
});

const COMMANDS: Array<{ name: string; database: 'legacy' | 'migrated'; args: string[]; codes: number[] }> = [
  { name: 'audit on a legacy database', database: 'legacy', args: ['audit'], codes: [1] },
  { name: 'audit --list', database: 'legacy', args: ['audit', '--list'], codes: [0] },
  { name: 'repair --all (the plan)', database: 'legacy', args: ['repair', '--all'], codes: [0] },
  { name: 'migrate status (pending)', database: 'legacy', args: ['migrate', 'status'], codes: [0] },
  { name: 'audit on a migrated database', database: 'migrated', args: ['audit', '--fail-on', 'never'], codes: [0] },
  { name: 'catalog show', database: 'migrated', args: ['catalog', 'show'], codes: [0] },
  { name: 'account show', database: 'migrated', args: ['account', 'show', SLUG], codes: [0] },
  { name: 'migrate status (applied)', database: 'migrated', args: ['migrate', 'status'], codes: [0] },
];

describe('output fitted to the width', () => {
  for (const command of COMMANDS) {
    for (const columns of [80, 120]) {
      it(`${command.name} at ${columns} columns: no line is longer`, async () => {
        const env = command.database === 'legacy' ? legacyEnv : migrated.env;
        const result = await run(env, command.args, { columns });
        expect(command.codes, result.stderr).toContain(result.code);
        expect(result.stdout.trim().length).toBeGreaterThan(0);
        const over = result.stdout.split('\n').filter((line) => [...line].length > columns);
        expect(over).toEqual([]);
      });
    }
  }

  it('uses the room it is given: wider at 120 columns than at 80 where the content is wider', async () => {
    for (const args of [['audit'], ['audit', '--list']]) {
      const narrow = await run(legacyEnv, args, { columns: 80 });
      const wide = await run(legacyEnv, args, { columns: 120 });
      expect(longest(narrow.stdout)).toBe(80);
      expect(longest(wide.stdout)).toBe(120);
    }
  });

  it('never breaks a word: a slug too long for its column is cut with an ellipsis, never split', async () => {
    for (const columns of [80, 120]) {
      const result = await run(migrated.env, ['account', 'show', SLUG], { columns });
      // The slug in the header and the sites table, and the site's domain.
      const tokens = result.stdout.split(/[\s│"]+/).filter((token) => token.startsWith('northwind-'));
      expect(tokens.length).toBeGreaterThanOrEqual(3);
      for (const token of tokens) {
        if (token === SLUG || token === DOMAIN) continue;
        expect(token).toMatch(/…$/);
        expect(SLUG.startsWith(token.slice(0, -1)) || DOMAIN.startsWith(token.slice(0, -1))).toBe(true);
      }
    }
  });

  it('piped without COLUMNS, output is 100 columns wide', async () => {
    const result = await run(legacyEnv, ['audit', '--list']);
    expect(longest(result.stdout)).toBe(100);
  });

  it('the audit table has a rule under its header and titles cut with an ellipsis, never wrapped', async () => {
    const result = await run(legacyEnv, ['audit'], { columns: 80 });
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^┌/);
    expect(lines[1]).toMatch(/^│ check +│ severity │ count +│ title +│$/);
    expect(lines[2]).toMatch(/^├─+┼─+┼─+┼─+┤$/);
    const rows = lines.slice(3, lines.findIndex((line) => line.startsWith('└')));
    expect(rows).toHaveLength(RULE_IDS.length); // one line per check
    expect(rows.some((row) => row.includes('…'))).toBe(true);
    expect(lines.filter((line) => line.startsWith('├'))).toHaveLength(1);
  });

  it('counts in the right plural: "1 check", "1 error row"', async () => {
    const result = await run(migrated.env, ['audit', '--check', 'credit-balance-drift']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAIL \(--fail-on error\): 1 check, 1 with findings \(1 error row, 0 warning rows\)/);
    const github = await run(migrated.env, ['audit', '--check', 'credit-balance-drift', '--format', 'github']);
    expect(github.stdout).toMatch(/failed \(--fail-on error\): 1 check, 1 with findings/);
  });
});

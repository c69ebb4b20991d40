// igny8 audit as a user runs it: every format validated structurally, the exit codes of
// SPEC.md, suppressions from igny8.config.json, and no secret in any output (runCli fails
// the test if a known test secret appears on stdout or stderr).
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RULE_IDS } from '../../src/rules/registry.js';
import { runCli, stderrBesidesDatabase } from '../helpers/cli.js';
import { describeEachDatabase, prepareDatabase, type TestDatabase } from '../helpers/databases.js';
import { makeAccount, shapeOf } from '../helpers/check-fixtures.js';
import { parseXml } from '../helpers/xml.js';
import { validateJunit } from '../helpers/junit-shape.js';

interface Planted {
  drifted: number;
  plaintextSite: number;
}

async function plant(t: TestDatabase): Promise<Planted> {
  await prepareDatabase(t.db, 'legacy');
  return t.db.knex.transaction(async (trx) => {
    const shape = await shapeOf(trx);
    const drifted = await makeAccount(trx);
    await trx(shape.accounts).where({ id: drifted.id }).increment('credits', 3);
    const warned = await makeAccount(trx, { plan: 'growth', sites: 2 });
    await trx('igny8_site_user_access').where({ site_id: warned.siteIds[1] }).delete();
    const secret = await makeAccount(trx);
    await trx('igny8_sites')
      .where({ id: secret.siteIds[0] })
      .update({ wp_app_password: 'wp-app-pa55-ünïcödé', wp_api_key: 'sk_live_wp_api_key_123', name: 'a <b> & "c"' });
    return { drifted: drifted.id, plaintextSite: secret.siteIds[0] };
  });
}

describeEachDatabase(
  'igny8 audit',
  (fx) => {
    let planted: Planted;
    let env: Record<string, string>;
    const audit = (args: string[], options: { cwd?: string } = {}) => runCli(['audit', ...args], { env, ...options });

    beforeAll(async () => {
      planted = await plant(fx.t);
      env = fx.t.env;
      // The embedded database admits one process: hand it to the child processes.
      if (fx.kind === 'pglite') await fx.t.db.close();
    });

    it('json: one document with every check, counts, samples, totals and schema version', async () => {
      const result = await audit(['--format', 'json', '--fail-on', 'never']);
      expect(result.code).toBe(0);
      const document = JSON.parse(result.stdout);
      expect(document.schemaVersion).toBe('0001_legacy_baseline');
      expect(document.checks.map((c: { id: string }) => c.id)).toEqual(RULE_IDS);
      const drift = document.checks.find((c: { id: string }) => c.id === 'credit-balance-drift');
      expect(drift).toMatchObject({ severity: 'error', status: 'findings', count: 1, repairable: true });
      expect(drift.samples[0].key).toBe(`account:${planted.drifted}`);
      expect(typeof drift.remedy).toBe('string');
      expect(document.totals.checks).toBe(RULE_IDS.length);
      // On the legacy shape: the plan checks, and the lifecycle's (no history, keys or billing runs yet).
      expect(document.totals.notApplicable).toBe(6);
      expect(typeof document.durationMs).toBe('number');
      const plaintext = document.checks.find((c: { id: string }) => c.id === 'plaintext-credentials');
      expect(plaintext.samples).toEqual([expect.objectContaining({ key: `site:${planted.plaintextSite}`, value: '***' })]);
    });

    it('--json means --format json, and contradicting it is a usage error', async () => {
      const result = await runCli(['--json', 'audit', '--check', 'credit-balance-drift'], { env });
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stdout).checks).toHaveLength(1);
      const clash = await runCli(['--json', 'audit', '--format', 'junit'], { env });
      expect(clash.code).toBe(2);
      expect(clash.stderr).toMatch(/--format/);
    });

    it('junit: the shape CI servers read, a testcase per check, failures exactly what fails the gate', async () => {
      const result = await audit(['--format', 'junit']);
      expect(result.code).toBe(1);
      const { suite, cases } = validateJunit(result.stdout);
      expect(cases.map((c) => c.name)).toEqual(RULE_IDS);
      expect(Number(suite.attributes.tests)).toBe(RULE_IDS.length);
      const failing = cases.filter((c) => c.outcome === 'failure');
      // --fail-on error: the warning (site-access-missing) passes, its count in system-out.
      expect(failing.map((c) => c.name).sort()).toEqual(['credit-balance-drift', 'plaintext-credentials']);
      expect(Number(suite.attributes.failures)).toBe(2);
      expect(Number(suite.attributes.skipped)).toBe(6);
      const warning = cases.find((c) => c.name === 'site-access-missing')!;
      expect(warning.outcome).toBe('passed');
      expect(warning.systemOut).toMatch(/^1 warning below --fail-on error: /);
      const failure = failing.find((c) => c.name === 'plaintext-credentials')!.element.children[0];
      expect(failure.attributes.type).toBe('error');
      expect(failure.text).toContain(`site:${planted.plaintextSite}`);
    });

    it('junit agrees with the exit code at every --fail-on', async () => {
      for (const [failOn, failures, code] of [['warning', 3, 1], ['never', 0, 0]] as const) {
        const result = await audit(['--format', 'junit', '--fail-on', failOn]);
        expect(result.code).toBe(code);
        const { suite } = validateJunit(result.stdout);
        expect(Number(suite.attributes.failures)).toBe(failures);
        expect(Number(suite.attributes.errors)).toBe(0);
      }
    });

    it('github: one workflow command per finding set, severity as the level', async () => {
      const result = await audit(['--format', 'github']);
      expect(result.code).toBe(1);
      const lines = result.stdout.trim().split('\n');
      for (const line of lines) expect(line).toMatch(/^::(error|warning|notice) title=[^:,\n]+::\S.*$/);
      expect(lines.filter((line) => line.startsWith('::error'))).toHaveLength(2);
      expect(lines.filter((line) => line.startsWith('::warning'))).toHaveLength(1);
      expect(lines.find((line) => line.includes('site-access-missing'))).toMatch(/^::warning/);
    });

    it('table: a row per check, samples beneath, one summary line', async () => {
      const result = await audit(['--sample', '1']);
      expect(result.code).toBe(1);
      for (const id of RULE_IDS) expect(result.stdout).toContain(id);
      expect(result.stdout).toMatch(/credit-balance-drift \(1\)\n {2}account:\d+ {2}account=acct-/);
      expect(result.stdout).toMatch(/FAIL \(--fail-on error\): \d+ checks, 3 with findings/);
      expect(stderrBesidesDatabase(result.stderr)).toBe(''); // no spinner without a terminal
    });

    it('exit codes: clean 0, warning-only 0 (1 with --fail-on warning), error findings 1', async () => {
      expect((await audit(['--check', 'plan-catalog-drift', 'orphan-users'])).code).toBe(0);
      expect((await audit(['--check', 'site-access-missing'])).code).toBe(0);
      expect((await audit(['--check', 'site-access-missing', '--fail-on', 'warning'])).code).toBe(1);
      expect((await audit(['--check', 'credit-balance-drift'])).code).toBe(1);
      expect((await audit(['--check', 'credit-balance-drift', '--fail-on', 'never'])).code).toBe(0);
    });

    it('exit 2 naming the flag on bad flags, before touching the database', async () => {
      const cases: Array<[string[], RegExp]> = [
        [['--fail-on', 'sometimes'], /--fail-on/],
        [['--check', 'orphan-users', 'no-such-check'], /--check.*no-such-check/],
        [['--sample', '-1'], /--sample|unknown option/],
        [['--sample', 'lots'], /--sample/],
        [['--format', 'xml'], /--format/],
        [['--config', '/no/such/igny8.config.json'], /--config/],
        [['--account', 'no-such-account'], /--account/],
      ];
      for (const [args, pattern] of cases) {
        const result = await audit(args);
        expect([args.join(' '), result.code]).toEqual([args.join(' '), 2]);
        expect(result.stderr).toMatch(pattern);
      }
    });

    it('--record before `igny8 migrate` exits 3 and says so', async () => {
      const result = await audit(['--record']);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/igny8 migrate/);
    });

    it('--incremental on the legacy shape exits 3: there is no change journal to read', async () => {
      const result = await audit(['--incremental']);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/change journal/);
      expect(result.stderr).toMatch(/legacy shape, audit in full/);
      expect(result.stdout).toBe('');
    });

    it('suppressions from ./igny8.config.json: a whole check, a row key, and an expired one', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'igny8-audit-config-'));
      writeFileSync(
        path.join(dir, 'igny8.config.json'),
        JSON.stringify({
          audit: {
            suppressions: [
              { check: 'plaintext-credentials', reason: 'rotating keys this week', until: '2999-01-01' },
              { check: 'credit-balance-drift', keys: [`account:${planted.drifted}`], reason: 'reviewed' },
              { check: 'site-access-missing', reason: 'old', until: '2020-01-01' },
            ],
          },
        }),
      );
      const result = await audit(['--format', 'json', '--fail-on', 'warning'], { cwd: dir });
      const document = JSON.parse(result.stdout);
      const byId = (id: string) => document.checks.find((c: { id: string }) => c.id === id);
      expect(byId('plaintext-credentials')).toMatchObject({ status: 'suppressed', count: 0, suppressed: 1 });
      expect(byId('credit-balance-drift')).toMatchObject({ status: 'ok', count: 0, suppressed: 1 });
      expect(byId('site-access-missing')).toMatchObject({ status: 'findings', count: 1 });
      expect(byId('site-access-missing').notes[0]).toMatch(/expired on 2020-01-01/);
      expect(result.code).toBe(1);
      expect((await audit(['--fail-on', 'error'], { cwd: dir })).code).toBe(0);
    });

    it('an invalid config exits 2 naming the key path', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'igny8-audit-config-'));
      const file = path.join(dir, 'custom.json');
      writeFileSync(file, JSON.stringify({ audit: { suppressions: [{ check: 'orphan-users', until: '2026-01-01' }] } }));
      const result = await audit(['--config', file]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/audit\.suppressions\[0\]\.reason/);
    });

    it('--list shows every check with its severity and whether a repair exists', async () => {
      const result = await runCli(['--json', 'audit', '--list'], { env });
      expect(result.code).toBe(0);
      const list = JSON.parse(result.stdout).checks;
      expect(list.map((c: { id: string }) => c.id)).toEqual(RULE_IDS);
      expect(list.find((c: { id: string }) => c.id === 'duplicate-emails')).toMatchObject({ severity: 'error', repairable: false });
    });

    it('--output writes each file in its format while the terminal keeps the table; an unknown extension is exit 2', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'igny8-output-'));
      const files = { junit: path.join(dir, 'report.xml'), html: path.join(dir, 'audit.html'), md: path.join(dir, 'summary.md') };
      const result = await audit(['--output', `junit:${files.junit}`, '--output', files.html, '--output', files.md]);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/credit-balance-drift/);
      expect(result.stdout).toMatch(/FAIL \(--fail-on error\)/);
      expect(Number(validateJunit(readFileSync(files.junit, 'utf8')).suite.attributes.failures)).toBeGreaterThan(0);
      expect(readFileSync(files.html, 'utf8')).toMatch(/^<!doctype html>/i);
      expect(readFileSync(files.md, 'utf8')).toMatch(/^\|.*credit-balance-drift.*\|$/m);
      expect(result.stderr).toContain(`wrote the junit report to ${files.junit}`);
      const unknown = await audit(['--output', path.join(dir, 'report.txt')]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/--output: cannot tell the format of/);
    });

    it('--check and --exclude take comma lists and repeats', async () => {
      const result = await runCli(['--json', 'audit', '--check', 'credit-balance-drift,site-access-missing', '--check', 'orphan-users', '--exclude', 'orphan-users'], { env });
      expect(JSON.parse(result.stdout).checks.map((c: { id: string }) => c.id)).toEqual(['credit-balance-drift', 'site-access-missing']);
      const unknown = await audit(['--exclude', 'credit-balance-drift,nope']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/--exclude: unknown check "nope"/);
    });

    it('igny8.config.json tunes checks: a threshold tolerates, a severity lowers, a disabled check does not run', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'igny8-tuning-'));
      writeFileSync(
        path.join(dir, 'igny8.config.json'),
        JSON.stringify({
          audit: {
            checks: {
              'credit-balance-drift': { warnAbove: 1 },
              'plaintext-credentials': { severity: 'warning' },
              'site-access-missing': { enabled: false },
            },
          },
        }),
      );
      const result = await runCli(['--json', 'audit'], { env, cwd: dir });
      expect(result.code).toBe(0);
      const checks = JSON.parse(result.stdout).checks as Array<{ id: string; status: string; severity: string; notes: string[]; reason?: string }>;
      const byId = (id: string) => checks.find((check) => check.id === id)!;
      expect(byId('credit-balance-drift')).toMatchObject({ status: 'findings', notes: [expect.stringMatching(/within the threshold \(warnAbove 1\): tolerated/)] });
      expect(byId('plaintext-credentials')).toMatchObject({ status: 'findings', severity: 'warning' });
      expect(byId('site-access-missing')).toMatchObject({ status: 'not-applicable', reason: 'disabled in igny8.config.json' });
      const strict = await runCli(['audit', '--fail-on', 'warning'], { env, cwd: dir });
      expect(strict.code).toBe(1);
    });

    it('appends its markdown summary to GITHUB_STEP_SUMMARY, emails masked', async () => {
      const summary = path.join(mkdtempSync(path.join(tmpdir(), 'igny8-summary-')), 'summary.md');
      writeFileSync(summary, '# earlier step\n');
      const result = await runCli(['audit', '--format', 'github'], { env: { ...env, GITHUB_STEP_SUMMARY: summary } });
      expect(result.code).toBe(1);
      const text = readFileSync(summary, 'utf8');
      expect(text.startsWith('# earlier step\n')).toBe(true);
      expect(text).toMatch(/credit-balance-drift/);
      expect(text).not.toMatch(/[a-z0-9]{2,}@example\.com/i);
    });

    it('--jobs spreads the checks over connections sharing one snapshot: the same counts at 1 and 4', async () => {
      const counts = async (jobs: string) => {
        const result = await runCli(['--json', 'audit', '--jobs', jobs, '--fail-on', 'never'], { env });
        expect(result.code).toBe(0);
        return (JSON.parse(result.stdout).checks as Array<{ id: string; count: number; status: string }>).map(({ id, count, status }) => [id, count, status]);
      };
      expect(await counts('4')).toEqual(await counts('1'));
      const bad = await audit(['--jobs', '0']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--jobs: at least 1/);
    });

    it('--verbose times each check and each statement on stderr', async () => {
      const result = await audit(['--verbose', '--check', 'orphan-users']);
      expect(result.stderr).toMatch(/^check orphan-users: \d+ ms$/m);
      expect(result.stderr).toMatch(/^sql \d+ ms: /m);
    });
  },
  { onDisk: true },
);

describeEachDatabase(
  'igny8 audit --record and --history',
  (fx) => {
    beforeAll(async () => {
      if (fx.kind === 'pglite') await fx.t.db.close();
    });

    it('appends a run per --record, never replacing one, and lists them', async () => {
      const env = fx.t.env;
      const first = await runCli(['audit', '--record', '--format', 'json'], { env });
      const second = await runCli(['audit', '--record', '--format', 'json'], { env });
      expect([first.code, second.code]).toEqual([0, 0]);
      const ids = [JSON.parse(first.stdout).runId, JSON.parse(second.stdout).runId];
      expect(ids[0]).not.toBe(ids[1]);
      const history = await runCli(['--json', 'audit', '--history'], { env });
      expect(history.code).toBe(0);
      expect(JSON.parse(history.stdout).runs.map((run: { runId: string }) => run.runId)).toEqual(ids);
      const table = await runCli(['audit', '--history'], { env });
      expect(table.stdout).toContain(ids[1]);
    });
  },
  { onDisk: true, migrated: true },
);

describe('igny8 audit without a database', () => {
  it('exits 4 when the server is unreachable, never printing the URL password', async () => {
    const result = await runCli(['audit', '--database-url', 'postgres://ops:Hunter2-Url-Pass@127.0.0.1:1/prod']);
    expect(result.code).toBe(4);
    expect(result.stdout).toBe('');
  });

  it('refuses, creating nothing, where no embedded database exists', async () => {
    const dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'igny8-audit-missing-')), 'db');
    const result = await runCli(['audit', '--format', 'json'], { env: { IGNY8_DATA_DIR: dataDir } });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/there is no embedded database in .*db: nothing to read/);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('fails closed on a database with no igny8 tables', async () => {
    const dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'igny8-audit-empty-')), 'db');
    // `migrate down` opens (and so creates) the database, and finds nothing to revert.
    expect((await runCli(['migrate', 'down'], { env: { IGNY8_DATA_DIR: dataDir } })).stdout).toMatch(/nothing to revert: no migration is applied/);
    const result = await runCli(['audit', '--format', 'json'], { env: { IGNY8_DATA_DIR: dataDir } });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/no igny8 tables/);
  });
});

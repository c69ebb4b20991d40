// SIGKILL in the middle of the long commands, on both databases: what was committed stays,
// the transaction that was open vanishes whole, and the rerun completes. (The server rolls
// back a dead client's transaction; the embedded database recovers from its own log when it
// is next opened.)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { describeEachDatabase, withTestDatabase } from '../helpers/databases.js';
import { all } from '../helpers/sql.js';
import { TEST_KEY } from '../helpers/repair-fixtures.js';

const REPAIR_RUNNER = fileURLToPath(new URL('../helpers/repair-runner.mjs', import.meta.url));

/** Starts a process and SIGKILLs it once its output shows `when`; resolves with what it printed. */
function killWhen(command: string[], env: Record<string, string>, when: RegExp) {
  return new Promise<{ out: string; signal: NodeJS.Signals | null }>((resolve, reject) => {
    const child = spawn(process.execPath, command, { env: { ...process.env, NO_COLOR: '1', ...env } });
    let out = '';
    const watch = (chunk: Buffer) => {
      out += chunk;
      if (when.test(out)) child.kill('SIGKILL');
    };
    child.stdout.on('data', watch);
    child.stderr.on('data', watch);
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve({ out, signal }));
  });
}

describeEachDatabase(
  'SIGKILL mid-command',
  (fx) => {
    const env = () => ({ ...fx.t.env, IGNY8_SECRET_KEY: TEST_KEY });

    beforeAll(async () => {
      expect((await runCli(['seed', 'legacy', '--accounts', fx.kind === 'pglite' ? '3000' : '20000', '--seed', '8', '--defect-rate', '0'], { env: env() })).code).toBe(0);
    }, 180_000);

    it('migrate killed after its first migration: what it applied stays recorded, the rest reruns to the end', async () => {
      const killed = await killWhen([BIN, 'migrate'], env(), /✓ \S+ {2}applied/);
      expect(killed.signal).toBe('SIGKILL');
      const printed = [...killed.out.matchAll(/✓ (\S+) {2}applied/g)].map((match) => match[1]);
      const recorded = await withTestDatabase(fx.t, (db) => all<{ name: string }>(db.knex, 'select name from igny8_migrations order by name'));
      // Everything it said it applied is recorded; at most the one in flight committed unannounced.
      for (const name of printed) expect(recorded.map((row) => row.name)).toContain(name);
      expect(recorded.length - 1 - printed.length).toBeLessThanOrEqual(1);
      const rerun = await runCli(['migrate'], { env: env() });
      expect(rerun.code).toBe(0);
      // The seed's one planted defect is the catalog's; nothing else may be wrong.
      const audit = await runCli(['audit', '--exclude', 'plan-catalog-drift'], { env: env() });
      expect(audit.code).toBe(0);
    }, 240_000);

    it('a repair killed with its second batch open: the first batch stays, logged; the rerun completes', async () => {
      // Break some balances, as the legacy application did, to give the repair rows to fix.
      await withTestDatabase(fx.t, (db) => db.knex.raw(`update igny8_accounts set credits = credits + 7 where id in (select id from igny8_accounts order by id limit 9)`));
      const killed = await killWhen([REPAIR_RUNNER, 'credit-balance-drift', '3', '2'], env(), /batch 2 written, not committed/);
      expect(killed.signal).toBe('SIGKILL');
      const logged = await withTestDatabase(fx.t, (db) =>
        all<{ n: number }>(db.knex, `select count(*)::int as n from igny8_repair_log where check_id = 'credit-balance-drift'`),
      );
      expect(logged[0]!.n).toBe(3); // batch 1 of 3 rows: written and logged together, nothing of batch 2
      const rerun = await runCli(['repair', 'credit-balance-drift', '--yes'], { env: env() });
      expect(rerun.code).toBe(0);
      const audit = await runCli(['--json', 'audit', '--check', 'credit-balance-drift,ledger-chain-broken'], { env: env() });
      expect(JSON.parse(audit.stdout).checks.map((check: { count: number }) => check.count)).toEqual([0, 0]);
    }, 120_000);
  },
  { onDisk: true, setup: (t) => (t.kind === 'pglite' ? t.db.close() : Promise.resolve()) },
);

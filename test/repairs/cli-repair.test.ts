// `igny8 repair` as an operator runs it: the plan without --yes writes nothing, the exit
// codes and messages of each refusal, --json, and the journey through the built CLI.
import { beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { describeEachDatabase } from '../helpers/databases.js';
import { TEST_KEY } from '../helpers/repair-fixtures.js';

describeEachDatabase(
  'igny8 repair through the CLI',
  (fx) => {
    const cli = (...args: string[]) => runCli(args, { env: { ...fx.t.env, IGNY8_SECRET_KEY: TEST_KEY } });

    // A legacy database with repairable defects, seeded as a user would.
    beforeAll(async () => {
      const seeded = await cli('seed', 'legacy', '--accounts', '80', '--defect-rate', '0.4', '--seed', '5', '--defects', 'repairable');
      expect(seeded.code, seeded.stderr).toBe(0);
    });

    it('refuses --yes (exit 3) until `igny8 migrate` has added the repair log', async () => {
      const plan = await cli('repair', 'orphan-users');
      expect(plan.code).toBe(0);
      expect(plan.stdout).toContain('before --yes: run `igny8 migrate`');
      const result = await cli('repair', '--all', '--yes');
      expect(result.code).toBe(3);
      expect(result.stderr).toContain(
        'run `igny8 migrate` first; it adds the repair log and stops before the first migration that needs repairs',
      );
    });

    it('migrate stops with the count, the check id and the exact repair command', async () => {
      const result = await cli('migrate');
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/migration blocked: \d+ users without an account \(check orphan-users\)/);
      expect(result.stderr).toContain('`igny8 repair orphan-users`');
    });

    it('refuses checks without a repair (exit 3), and bad input (exit 2, naming the field)', async () => {
      const none = await cli('repair', 'duplicate-emails');
      expect(none.code).toBe(3);
      expect(none.stderr).toContain('duplicate-emails has no automatic repair: a person decides');
      expect(none.stderr).toContain('igny8 audit --check duplicate-emails');
      const unknown = await cli('repair', 'no-such-check');
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('ID: no check "no-such-check"');
      expect((await cli('repair')).code).toBe(2);
      const industry = await cli('repair', 'site-industry-null', '--default-industry', 'atlantis');
      expect(industry.code).toBe(2);
      expect(industry.stderr).toContain('--default-industry: no industry "atlantis"');
      const account = await cli('repair', '--all', '--account', 'nobody-here');
      expect(account.code).toBe(2);
      expect(account.stderr).toContain('--account');
      const both = await cli('repair', 'orphan-users', '--all');
      expect(both.code).toBe(2);
    });

    it('without --yes prints the plan and writes nothing', async () => {
      const first = await cli('--json', 'repair', '--all');
      expect(first.code).toBe(0);
      const plan = JSON.parse(first.stdout) as { applied: boolean; runId: null; repairs: Array<{ checkId: string; count: number }> };
      expect(plan.applied).toBe(false);
      expect(plan.runId).toBeNull();
      expect(plan.repairs.find((repair) => repair.checkId === 'orphan-users')!.count).toBeGreaterThan(0);
      const human = await cli('repair', '--all');
      expect(human.stdout).toContain('repair plan — nothing is written; add --yes to apply');
      expect(human.stdout).toMatch(/orphan-users: \d+ rows? would change/);
      const again = JSON.parse((await cli('--json', 'repair', '--all')).stdout) as typeof plan;
      expect(again.repairs).toEqual(plan.repairs);
    });

    it('--yes repairs everything, says what it did, and a second run changes nothing', async () => {
      const applied = await cli('repair', '--all', '--yes');
      expect(applied.code).toBe(0);
      expect(applied.stdout).toMatch(/orphan-users: repaired \d+ rows?; rows written: igny8_accounts \d+, igny8_users \d+/);
      expect(applied.stdout).toMatch(/run id [0-9a-f-]{36}: every changed row is in igny8_repair_log/);
      const again = await cli('--json', 'repair', '--all', '--yes');
      expect(again.code).toBe(0);
      const report = JSON.parse(again.stdout) as { repairs: Array<{ repaired?: number }> };
      expect(report.repairs.every((repair) => (repair.repaired ?? 0) === 0)).toBe(true);
    });

    it('migrate then completes and the audit exits 0', async () => {
      const migrated = await cli('migrate');
      expect(migrated.code).toBe(0);
      const audit = await cli('audit');
      expect(audit.code).toBe(0);
    });
  },
  {
    onDisk: true,
    setup: async (t) => {
      // The child processes open the embedded database themselves.
      if (t.kind === 'pglite') await t.db.close();
    },
  },
);

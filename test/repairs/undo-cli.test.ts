// repair --reason, repair --history and repair undo as a user runs them: exit codes and output.
import { expect, it } from 'vitest';
import { describeEachDatabase, withTestDatabase } from '../helpers/databases.js';
import { runCli } from '../helpers/cli.js';
import { TEST_ENV } from '../helpers/repair-fixtures.js';

describeEachDatabase(
  'repair undo and --history as child processes',
  (fx) => {
    it('a repair with --reason is listed with who ran it, undone once, refused the second time', async () => {
      const env = { ...fx.t.env, IGNY8_SECRET_KEY: String(TEST_ENV.IGNY8_SECRET_KEY) };
      const run = (args: string[], input?: string) => runCli(args, { env, input });
      expect((await run(['register', '--email', 'u@example.com', '--password-stdin', '--account-name', 'Undo Co', '--plan', 'growth'], 'Sup3r-Secret-Pa55')).code).toBe(0);
      await withTestDatabase(fx.t, (db) => db.knex.raw(`update igny8_users set role = 'admin' where email = 'u@example.com'`));
      const repaired = await run(['--json', 'repair', 'account-without-owner', '--yes', '--reason', 'ticket 42']);
      expect(repaired.code, repaired.stderr).toBe(0);
      const runId = (JSON.parse(repaired.stdout) as { runId: string }).runId;

      const history = await run(['--json', 'repair', '--history']);
      expect(history.code).toBe(0);
      const [latest] = JSON.parse(history.stdout) as Array<{ runId: string; reason: string; ranBy: string; igny8Version: string; rows: number }>;
      expect(latest).toMatchObject({ runId, reason: 'ticket 42', rows: 1 });
      expect(latest.ranBy).not.toBe('');
      expect(latest.igny8Version).toMatch(/^\d+\.\d+\.\d+/);

      const undo = await run(['repair', 'undo', runId, '--reason', 'promoted the wrong user']);
      expect(undo.code, undo.stderr).toBe(0);
      expect(undo.stdout).toContain(`undid repair run ${runId}: igny8_users 1`);
      await withTestDatabase(fx.t, async (db) => {
        const [user] = await db.knex('igny8_users').where('email', 'u@example.com');
        expect(user.role).toBe('admin');
      });
      const again = await run(['repair', 'undo', runId]);
      expect(again.code).toBe(3);
      expect(again.stderr).toMatch(/was undone already/);
      const bad = await run(['repair', 'undo', 'nope']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/RUN_ID: must be a run id/);
      const after = JSON.parse((await run(['--json', 'repair', '--history'])).stdout) as Array<Record<string, unknown>>;
      expect(after[0]).toMatchObject({ kind: 'undo', undoes: runId, reason: 'promoted the wrong user' });
      expect(after[1]).toMatchObject({ runId, undoneBy: after[0].runId });
      const table = await run(['repair', '--history']);
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/│ undo\s+│/);

      const noAge = await run(['audit', '--prune-history']);
      expect(noAge.code).toBe(2);
      expect(noAge.stderr).toMatch(/--prune-history needs --older-than DAYS/);
      const pruned = await run(['--json', 'audit', '--prune-history', '--older-than', '0']);
      expect(pruned.code).toBe(0);
      expect(JSON.parse(pruned.stdout).deleted).toMatchObject({ igny8_repair_log: 2, igny8_operation_runs: 2 });
      expect(JSON.parse((await run(['--json', 'repair', '--history'])).stdout)).toEqual([]);
    }, 120_000);
  },
  {
    onDisk: true,
    migrated: true,
    setup: async (t) => {
      if (t.kind === 'pglite') await t.db.close();
    },
  },
);

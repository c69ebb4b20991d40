// catalog sync --dry-run and --yes as a user runs them: what is shown, the exit codes, and
// nothing written without confirmation.
import { expect, it } from 'vitest';
import { describeEachDatabase, withTestDatabase } from '../helpers/databases.js';
import { runCli } from '../helpers/cli.js';

describeEachDatabase(
  'catalog sync --dry-run and --yes as child processes',
  (fx) => {
    it('shows a price change, refuses it while a subscription is active, applies it with --yes', async () => {
      const run = (args: string[], input?: string) => runCli(args, { env: fx.t.env, input });
      expect((await run(['register', '--email', 'sub@example.com', '--password-stdin', '--account-name', 'Sub Co', '--plan', 'growth'], 'Sup3r-Secret-Pa55')).code).toBe(0);
      await withTestDatabase(fx.t, async (db) => {
        await db.knex('igny8_subscriptions').update({ status: 'active' });
        await db.knex('igny8_plans').where({ slug: 'growth' }).update({ price: '149.00' });
      });
      const preview = await run(['catalog', 'sync', '--dry-run']);
      expect(preview.code).toBe(0);
      expect(preview.stdout).toContain('would update plan growth: price 149 → 139 (1 active subscription: from their next period)');
      expect(preview.stdout).toContain('dry run, nothing written');

      const refused = await run(['catalog', 'sync']);
      expect(refused.code).toBe(3);
      expect(refused.stderr).toMatch(/confirm with --yes/);
      expect(refused.stderr).toMatch(/growth: price 149 → 139 \(1 active subscriptions\)/);
      await withTestDatabase(fx.t, async (db) => {
        expect((await db.knex('igny8_plans').where({ slug: 'growth' }).first('price')).price).toBe('149.00');
      });

      const applied = await run(['--json', 'catalog', 'sync', '--yes']);
      expect(applied.code).toBe(0);
      expect(JSON.parse(applied.stdout)).toMatchObject({ dryRun: false, changed: 1, changes: [{ key: 'growth', activeSubscriptions: 1 }] });
      await withTestDatabase(fx.t, async (db) => {
        expect((await db.knex('igny8_plans').where({ slug: 'growth' }).first('price')).price).toBe('139.00');
        // Invoices already issued are not touched.
        expect((await db.knex('igny8_invoices').first('total')).total).toBe('139.00');
      });
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

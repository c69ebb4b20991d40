// `igny8 billing run` at size: a legacy seed without defects, migrated, every subscription's
// period made to end an hour ago (the day every customer renews: the worst day), then the
// run as a user starts it (renewals with their invoices, the free accounts' monthly credits,
// overdue invoices, suspensions), and once more for the same instant, which must change
// nothing (its figure is the price of that idempotency).
import { notAvailable, type BenchContext } from '../context.js';
import { failureText, runIgny8 } from '../process.js';
import { seedLegacy } from './seed.js';

export async function benchBilling(ctx: BenchContext): Promise<void> {
  const { rec } = ctx;
  if (!(await ctx.has(['billing', 'run']))) {
    rec.missing('billing', 'billing run', 's', 'not-available', notAvailable('billing run'));
    return;
  }
  const outcome = await seedLegacy(ctx, 'billing', ['--defect-rate', '0']);
  if (!outcome.ok) {
    rec.missing('billing', 'billing run', 's', 'failed', `seed: ${outcome.error}`);
    return;
  }
  const { db } = outcome.seeded;
  const env = { DATABASE_URL: db.url, IGNY8_SECRET_KEY: ctx.secretKey };
  try {
    ctx.log('igny8 migrate');
    const migrate = await runIgny8(['--json', 'migrate'], { env });
    if (migrate.code !== 0) {
      rec.missing('billing', 'billing run', 's', 'failed', `migrate: ${failureText(migrate)}`);
      return;
    }
    await db.query(
      `update igny8_subscriptions set current_period_start = now() - interval '1 month' - interval '1 hour',
              current_period_end = now() - interval '1 hour', status = 'active'
        where status in ('active', 'past_due')`,
    );
    await db.query('vacuum (analyze)');
    const asOf = new Date().toISOString();
    const runs: Array<{ ms: number; counts: unknown; stepMs: unknown }> = [];
    for (const label of ['first', 'again']) {
      ctx.log(`igny8 billing run --as-of ${asOf} (${label})`);
      const run = await runIgny8(['--json', 'billing', 'run', '--as-of', asOf], { env, memory: true });
      if (run.code !== 0) {
        rec.missing('billing', 'billing run', 's', 'failed', failureText(run));
        return;
      }
      const report = JSON.parse(run.stdout) as { counts: unknown; stepMs: unknown };
      runs.push({ ms: run.ms, counts: report.counts, stepMs: report.stepMs });
      if (label === 'first' && run.peakRssMb !== undefined) rec.measured('billing.rss', 'peak RSS of igny8 billing run', 'MiB', run.peakRssMb);
    }
    const counts = runs[0].counts as Record<string, number>;
    rec.measured('billing', `billing run, every period ending (${ctx.options.accounts} accounts)`, 's', runs[0].ms / 1000, {
      note: `${counts.renewals} renewals, ${counts.renewalInvoices} invoices, ${counts.monthlyCredits} free accounts credited`,
    });
    rec.measured('billing.again', 'billing run again for the same instant (changes nothing)', 's', runs[1].ms / 1000);
    rec.detail('billing', { database: db.name, asOf, runs });
  } finally {
    if (ctx.options.keep) ctx.log(`kept database ${db.name}`);
    else await db.drop();
  }
}

// seed #13: credits_per_month and included_credits said the same thing twice. It is folded into
// included_credits where that was 0 (as the old get_effective_credits_per_month() read it),
// then dropped. Every non-zero legacy value is archived first, including the ones that could
// not be folded because included_credits already held a different number.
// Expand: the archive and the fold (the legacy get_effective_credits_per_month() reads the same
// number before and after); the column is dropped by contract (0052).
import type { Migration } from '../db/migrations.js';
import { archiveLegacyValues, forgetLegacyValues, plural, writeCount } from './support/ddl.js';

const NAME = '0006_plans_fold_credits_per_month';
const FOLDED = 'folded into included_credits (it was 0)';

const migration: Migration = {
  description: 'plans: credits_per_month folded into included_credits where that was 0 (seed #13)',
  phase: 'expand',
  locks: [
    { table: 'igny8_plans', mode: 'ROW EXCLUSIVE', work: 'write' },
    { table: 'igny8_legacy_values', mode: 'ROW EXCLUSIVE', work: 'write' },
  ],
  async up({ trx, note }) {
    const archived = await archiveLegacyValues(
      trx,
      NAME,
      'igny8_plans',
      `select id, jsonb_build_object('credits_per_month', credits_per_month, 'included_credits', included_credits),
              case when included_credits = 0 then ?
                   when included_credits = credits_per_month then 'equal to included_credits'
                   else 'not folded: included_credits already held another value' end
         from igny8_plans where credits_per_month <> 0`,
      [FOLDED],
    );
    const folded = await writeCount(
      trx,
      `update igny8_plans set included_credits = credits_per_month where included_credits = 0 and credits_per_month <> 0`,
    );
    const kept = await trx.raw(
      `select slug, credits_per_month, included_credits from igny8_plans
        where credits_per_month <> 0 and included_credits <> credits_per_month order by slug`,
    );
    note(`${plural(folded, 'plan')} folded credits_per_month into included_credits; ${plural(archived, 'legacy value')} archived in igny8_legacy_values`);
    for (const row of kept.rows as Array<{ slug: string; credits_per_month: number; included_credits: number }>) {
      note(`plan ${row.slug}: credits_per_month ${row.credits_per_month} not folded (included_credits is ${row.included_credits}); kept in igny8_legacy_values`);
    }
  },
  async down({ trx }) {
    // A folded plan gets its 0 back only if included_credits still holds the folded value.
    await trx.raw(
      `update igny8_plans p set included_credits = 0
         from igny8_legacy_values v
        where v.migration = ? and v.table_name = 'igny8_plans' and v.row_id = p.id
          and v.reason = ? and p.included_credits = (v.legacy->>'credits_per_month')::integer`,
      [NAME, FOLDED],
    );
    await forgetLegacyValues(trx, NAME);
  },
};

export default migration;

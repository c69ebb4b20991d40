// seed #13: credits_per_month and included_credits said the same thing twice. It is folded into
// included_credits where that was 0 (as the old get_effective_credits_per_month() read it),
// then dropped. Every non-zero legacy value is archived first, including the ones that could
// not be folded because included_credits already held a different number.
import type { Migration } from '../db/migrations.js';
import { archiveLegacyValues, forgetLegacyValues, plural, writeCount } from './support/ddl.js';

const NAME = '0006_plans_fold_credits_per_month';
const FOLDED = 'folded into included_credits (it was 0)';

const migration: Migration = {
  description: 'plans: credits_per_month folded into included_credits where that was 0, then dropped (seed #13)',
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
    await trx.raw(`alter table igny8_plans drop column credits_per_month`);
    note(`${plural(folded, 'plan')} folded credits_per_month into included_credits; ${plural(archived, 'legacy value')} archived in igny8_legacy_values`);
    for (const row of kept.rows as Array<{ slug: string; credits_per_month: number; included_credits: number }>) {
      note(`plan ${row.slug}: credits_per_month ${row.credits_per_month} not folded (included_credits is ${row.included_credits}); kept in igny8_legacy_values`);
    }
  },
  async down({ trx }) {
    await trx.raw(`alter table igny8_plans add column credits_per_month integer not null default 0`);
    // A folded plan gets its 0 back only if included_credits still holds the folded value.
    await trx.raw(
      `update igny8_plans p
          set credits_per_month = (v.legacy->>'credits_per_month')::integer,
              included_credits = case when v.reason = ? and p.included_credits = (v.legacy->>'credits_per_month')::integer
                                      then 0 else p.included_credits end
         from igny8_legacy_values v
        where v.migration = ? and v.table_name = 'igny8_plans' and v.row_id = p.id`,
      [FOLDED, NAME],
    );
    await forgetLegacyValues(trx, NAME);
  },
};

export default migration;

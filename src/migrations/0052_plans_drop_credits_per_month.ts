// seed #13, contract: credits_per_month is dropped. What the legacy application wrote into it
// since expand is archived and folded the way 0006 did (into an included_credits of 0), so no
// value vanishes with the column.
import type { Migration } from '../db/migrations.js';
import { archiveLegacyValues, forgetLegacyValues, plural, writeCount } from './support/ddl.js';

const NAME = '0052_plans_drop_credits_per_month';
const EXPAND = '0006_plans_fold_credits_per_month';
const FOLDED = 'folded into included_credits (it was 0)';

const migration: Migration = {
  description: 'plans: credits_per_month dropped (seed #13)',
  phase: 'contract',
  locks: [
    { table: 'igny8_plans', mode: 'ACCESS EXCLUSIVE', work: 'write', bounded: 'the plans catalog: tens of rows' },
    { table: 'igny8_legacy_values', mode: 'ROW EXCLUSIVE', work: 'write' },
  ],
  async up({ trx, note }) {
    const archived = await archiveLegacyValues(
      trx,
      NAME,
      'igny8_plans',
      `select p.id, jsonb_build_object('credits_per_month', p.credits_per_month, 'included_credits', p.included_credits),
              case when p.included_credits = 0 then ? else 'changed since expand; not folded: included_credits held a value' end
         from igny8_plans p
        where p.credits_per_month <> 0
          and not exists (select 1 from igny8_legacy_values v
                           where v.migration = ? and v.table_name = 'igny8_plans' and v.row_id = p.id
                             and (v.legacy->>'credits_per_month')::integer = p.credits_per_month)`,
      [FOLDED, EXPAND],
    );
    const folded = await writeCount(
      trx,
      `update igny8_plans set included_credits = credits_per_month where included_credits = 0 and credits_per_month <> 0`,
    );
    await trx.raw(`alter table igny8_plans drop column credits_per_month`);
    note(
      `credits_per_month dropped` +
        (archived > 0 ? `; ${plural(archived, 'value')} written since expand archived, ${plural(folded, 'plan')} folded` : ''),
    );
  },
  async down({ trx }) {
    await trx.raw(`alter table igny8_plans add column credits_per_month integer not null default 0`);
    // The latest archived value of each plan: this migration's over expand's.
    await trx.raw(
      `update igny8_plans p set credits_per_month = (v.legacy->>'credits_per_month')::integer
         from (select distinct on (row_id) row_id, legacy from igny8_legacy_values
                where migration in (?, ?) and table_name = 'igny8_plans' order by row_id, migration = ? desc, id desc) v
        where v.row_id = p.id`,
      [NAME, EXPAND, NAME],
    );
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

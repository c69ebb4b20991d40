// Growth while an account was not active: sites, sectors, users or grants (other than those
// a payment gives) created while its status history says pending_payment, suspended or
// cancelled. The domain commands refuse them (src/domain/account-gate.ts); the legacy
// application or a hand-written statement did not. Judged only where the status history
// covers the moment (it starts with migration 0033): older activity is not judged.
import { GATED_STATUSES } from '../domain/account-gate.js';
import { STATUS_HISTORY_TABLE } from '../domain/account-status.js';
import { LEDGER } from './ledger.js';
import { missingTables, scopeTo } from './sql.js';
import type { Rule } from './types.js';

export const inactiveAccountActivity: Rule = {
  id: 'inactive-account-activity',
  severity: 'warning',
  title: 'sites, sectors, users or grants created while the account was not active',
  remedy: 'no repair: a person decides whether to keep them (the account may need a plan, a payment or a cleanup)',
  verdict(shape) {
    const missing = missingTables(shape, STATUS_HISTORY_TABLE);
    if (missing) return { kind: 'not-applicable', reason: 'no account status history yet: `igny8 migrate` starts it' };
    return missingTables(shape, 'igny8_sites', 'igny8_sectors', 'igny8_users', LEDGER, shape.schema.accountsTable);
  },
  findings(shape) {
    const { schema } = shape;
    const statuses = GATED_STATUSES.map((status) => `'${status}'`).join(', ');
    // An interval of a gated status, from its change to the next (a change made in the same
    // transaction as the rows, e.g. a signup, is not after it). Events are looked up per
    // interval through each table's account index: gated intervals are few.
    const during = (table: string, kind: string, created: string, extra = '') =>
      `select '${kind}' as kind, e.id, e.${created} as created_at from ${table} e
        where e.${schema.accountColumn(table)} = h.account_id and e.${created} > h.changed_at
          and (h.until is null or e.${created} < h.until)${extra}`;
    return {
      sql: `select e.kind || ':' || e.id as key, null::bigint as target, a.slug as account, e.created_at as sort,
                   e.kind, e.id, e.created_at, h.to_status as account_status, h.changed_at as status_since
              from (select account_id, to_status, changed_at,
                           lead(changed_at) over (partition by account_id order by changed_at, id) as until
                      from ${STATUS_HISTORY_TABLE}
                     -- only accounts that were ever held back: the window sorts their rows alone
                     where account_id in (select account_id from ${STATUS_HISTORY_TABLE} where to_status in (${statuses}))${scopeTo(shape, 'account_id')}) h
              join ${schema.accountsTable} a on a.id = h.account_id
             cross join lateral (
                ${during('igny8_sites', 'site', 'created_at')}
                union all ${during('igny8_sectors', 'sector', 'created_at')}
                union all ${during('igny8_users', 'user', 'date_joined')}
                union all ${during(LEDGER, 'grant', 'created_at', ` and e.amount > 0 and not coalesce(e.metadata \\? 'invoice', false)`)}) e
             where h.to_status in (${statuses})`,
    };
  },
};

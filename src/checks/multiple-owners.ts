// seed #3: the owner is derived from roles, so at most one user per account may hold it.
// The target's partial unique index (account_id) where role = 'owner' guarantees that.
import { enforced, GROUP_IN_ORDER, missingTables, runFindings, scopeTo } from './query.js';
import type { Check } from './types.js';

export const multipleOwners: Check = {
  id: 'multiple-owners',
  severity: 'warning',
  title: 'accounts with more than one owner',
  remedy: 'igny8 repair multiple-owners: keep one owner, the others become admin',
  repairable: true,
  async run(ctx) {
    const { schema } = ctx;
    const accounts = schema.accountsTable;
    const missing = missingTables(ctx, 'igny8_users', accounts);
    if (missing) return missing;
    const member = schema.accountColumn('igny8_users');
    const index = ctx.constraints.uniqueIndex(
      'igny8_users',
      (candidate) =>
        candidate.columns.length === 1 && candidate.columns[0] === member && /role.*'owner'/.test(candidate.predicate ?? ''),
    );
    if (index) return enforced(`unique index ${index.name} (one owner per account)`);
    // Count owners per account first; the emails (and the account row) only for the few
    // accounts found, by index.
    return runFindings(ctx, {
      sql: `select 'account:' || o.account_id as key, a.slug as account, o.account_id as sort, o.owners,
                   (select string_agg(u.email, ', ' order by u.id) from igny8_users u
                     where u.${member} = o.account_id and u.role = 'owner') as emails
              from (select ${member} as account_id, count(*) as owners
                      from igny8_users where role = 'owner' and ${member} is not null
                     group by ${member} having count(*) > 1) o
              cross join lateral (select slug from ${accounts} where id = o.account_id) a
             where true${scopeTo(ctx, 'o.account_id')}`,
      settings: GROUP_IN_ORDER,
    });
  },
};

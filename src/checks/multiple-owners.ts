// seed #3: the owner is derived from roles, so at most one user per account may hold it.
// The target's partial unique index (account_id) where role = 'owner' guarantees that.
import { enforced, missingTables, runFindings, scopeTo } from './query.js';
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
    return runFindings(ctx, {
      sql: `select 'account:' || a.id as key, a.slug as account, a.id as sort,
                   o.owners, o.emails
              from (select ${member} as account_id, count(*) as owners,
                           string_agg(email, ', ' order by id) as emails
                      from igny8_users where role = 'owner' and ${member} is not null
                     group by ${member} having count(*) > 1) o
              join ${accounts} a on a.id = o.account_id
             where true${scopeTo(ctx, 'a.id')}`,
    });
  },
};

// Emails were unique case-sensitively only, so `Ann@x.io` and `ann@x.io` are two users.
// A person decides which is real; the target's unique index on lower(email) then holds.
import { enforced, missingTables, runFindings } from './query.js';
import type { Check } from './types.js';

export const duplicateEmails: Check = {
  id: 'duplicate-emails',
  severity: 'error',
  title: 'emails equal ignoring case',
  remedy: 'no repair: a person decides which user keeps the email (blocks the case-insensitive unique index)',
  repairable: false,
  async run(ctx) {
    const { schema } = ctx;
    const accounts = schema.accountsTable;
    const missing = missingTables(ctx, 'igny8_users', accounts);
    if (missing) return missing;
    const member = schema.accountColumn('igny8_users');
    const index = ctx.constraints.uniqueIndex(
      'igny8_users',
      (candidate) => candidate.predicate === null && /\(\s*lower\(\(?email\)?/i.test(candidate.definition),
    );
    if (index) return enforced(`unique index ${index.name} on lower(email)`);
    const scope =
      ctx.scope.accountId === undefined ? '' : ` having bool_or(u.${member} = ${Number(ctx.scope.accountId)})`;
    return runFindings(ctx, {
      sql: `select 'email:' || d.email as key, a.slug as account, d.first_id as sort,
                   d.email, d.users, d.user_ids
              from (select lower(u.email) as email, count(*) as users, min(u.id) as first_id,
                           string_agg(cast(u.id as text), ', ' order by u.id) as user_ids
                      from igny8_users u
                     where lower(u.email) in (select lower(email) from igny8_users
                                               group by lower(email) having count(*) > 1)
                     group by lower(u.email)${scope}) d
              join igny8_users f on f.id = d.first_id
              left join ${accounts} a on a.id = f.${member}`,
    });
  },
};

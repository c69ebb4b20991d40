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
    // One pass: group by the lowered email, keep groups of two or more, name the first user.
    return runFindings(ctx, {
      sql: `select 'email:' || d.email as key, a.slug as account, d.first_id as sort,
                   d.email, d.users, d.first_id as first_user_id, d.last_id as last_user_id
              from (select lower(u.email) as email, count(*) as users, min(u.id) as first_id, max(u.id) as last_id
                      from igny8_users u
                     group by lower(u.email) having count(*) > 1${scope.replace(' having ', ' and ')}) d
              join igny8_users f on f.id = d.first_id
              left join ${accounts} a on a.id = f.${member}`,
    });
  },
};

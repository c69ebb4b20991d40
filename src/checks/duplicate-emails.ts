// Emails were unique case-sensitively only, so `Ann@x.io` and `ann@x.io` are two users.
// A person decides which is real; the target's unique index on lower(email) then holds.
import { enforced, missingTables, runFindings } from './query.js';
import type { Check, CheckContext } from './types.js';

/**
 * The users that can share a lowered email with another, each with its lowered email.
 *
 * Lowering every email and grouping a million of them is the expensive way. While the plain
 * unique index on email holds, two users in a group have different emails, so all of them
 * but at most one have an email that lower() changes, and that one's email IS the lowered
 * email. Candidates are the emails lower() may change (an ASCII capital or any non-ASCII
 * character, both cheap to test); the rest of each group is found by probing the unique
 * index with the candidates' lowered emails.
 */
function members(ctx: CheckContext, member: string): string {
  const plainUnique = ctx.constraints.uniqueIndex(
    'igny8_users',
    (index) => index.predicate === null && index.columns.length === 1 && index.columns[0] === 'email',
  );
  if (!plainUnique) return `select id, ${member} as account_id, lower(email) as email from igny8_users`;
  return `select c.id, c.account_id, c.email
            from candidates c
          union
          select u.id, u.${member}, lower(u.email)
            from (select distinct email from candidates) c
            join igny8_users u on u.email = c.email`;
}

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
    const scope = ctx.scope.accountId === undefined ? '' : ` and bool_or(m.account_id = ${Number(ctx.scope.accountId)})`;
    return runFindings(ctx, {
      sql: `with candidates as (
              select id, ${member} as account_id, lower(email) as email
                from igny8_users
               where email collate "C" <> lower(email collate "C") or octet_length(email) <> length(email))
            select 'email:' || d.email as key,
                   (select a.slug from igny8_users f join ${accounts} a on a.id = f.${member} where f.id = d.first_id) as account,
                   d.first_id as sort, d.email, d.users, d.first_id as first_user_id, d.last_id as last_user_id
              from (select m.email, count(*) as users, min(m.id) as first_id, max(m.id) as last_id
                      from (${members(ctx, member)}) m
                     group by m.email having count(*) > 1${scope}) d`,
    });
  },
};

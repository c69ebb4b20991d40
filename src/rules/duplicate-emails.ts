// Emails were unique case-sensitively only, so `Ann@x.io` and `ann@x.io` are two users.
// A person decides which is real; the target's unique index on lower(email) then holds.
// Migration 0010, which adds that index, is gated by this rule.
import { missingTables } from './sql.js';
import type { Rule, Shape } from './types.js';

const USERS = 'igny8_users';

/**
 * The users that can share a lowered email with another, each with its lowered email.
 *
 * Lowering every email and grouping all of them is the expensive way (bench/RESULTS.md,
 * "Where targets are missed, and why"). While the plain unique index on email holds, two
 * users in a group have different emails, so all of them but at most one have an email that
 * lower() changes, and that one's email IS the lowered email. Candidates are the emails
 * lower() may change (an ASCII capital or any non-ASCII character, both cheap to test); the
 * rest of each group is found by probing the unique index with the candidates' lowered emails.
 */
function members(shape: Shape, accountColumn: string): string {
  const plainUnique = shape.constraints.uniqueIndex(
    USERS,
    (index) => index.predicate === null && index.columns.length === 1 && index.columns[0] === 'email',
  );
  if (!plainUnique) return `select id, ${accountColumn} as account_id, lower(email) as email from ${USERS}`;
  return `select c.id, c.account_id, c.email
            from candidates c
          union
          select u.id, u.${accountColumn}, lower(u.email)
            from (select distinct email from candidates) c
            join ${USERS} u on u.email = c.email`;
}

export const duplicateEmails: Rule = {
  id: 'duplicate-emails',
  severity: 'error',
  scope: 'database',
  title: 'emails equal ignoring case',
  remedy: 'no repair: a person decides which user keeps the email (blocks the case-insensitive unique index)',
  verdict(shape) {
    const missing = missingTables(shape, USERS, shape.schema.accountsTable);
    if (missing) return missing;
    const index = shape.constraints.uniqueIndex(
      USERS,
      (candidate) => candidate.predicate === null && /\(\s*lower\(\(?email\)?/i.test(candidate.definition),
    );
    return index ? { kind: 'enforced', by: `unique index ${index.name} on lower(email)` } : undefined;
  },
  findings(shape) {
    const { schema } = shape;
    const accountColumn = schema.accountColumn(USERS);
    const scope = shape.accountId === undefined ? '' : ` and bool_or(m.account_id = ${Number(shape.accountId)})`;
    return {
      sql: `with candidates as (
              select id, ${accountColumn} as account_id, lower(email) as email
                from ${USERS}
               where email collate "C" <> lower(email collate "C") or octet_length(email) <> length(email))
            select 'email:' || d.email as key, null::bigint as target,
                   (select a.slug from ${USERS} f join ${schema.accountsTable} a on a.id = f.${accountColumn} where f.id = d.first_id) as account,
                   d.first_id as sort, d.email, d.users, d.first_id as first_user_id, d.last_id as last_user_id
              from (select m.email, count(*) as users, min(m.id) as first_id, max(m.id) as last_id
                      from (${members(shape, accountColumn)}) m
                     group by m.email having count(*) > 1${scope}) d`,
    };
  },
};

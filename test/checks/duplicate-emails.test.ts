// duplicate-emails looks only at the emails lower() can change and probes the unique email
// index for the rest of each group. These cases hold it to the plain definition (group every
// user by lower(email)), computed by the same database, so the database's own lower() (ASCII
// only in a C locale, Unicode elsewhere) decides what a duplicate is in both.
import { expect, it } from 'vitest';
import type { Knex } from 'knex';
import { describeEachDatabase, prepareDatabase } from '../helpers/databases.js';
import { check, inRollback, makeAccount, shapeOf } from '../helpers/check-fixtures.js';

const EMAILS = [
  // a lowercase member and two capitalised ones: one group of three
  'ann@dup.test',
  'Ann@dup.test',
  'ANN@DUP.TEST',
  // no lowercase member at all
  'Bob@dup.test',
  'BOB@dup.test',
  // a capital but no twin: not a duplicate
  'Carol@dup.test',
  // non-ASCII: equal ignoring case wherever lower() knows Unicode
  'élodie@dup.test',
  'Élodie@dup.test',
  'ÉLODIE@dup.test',
  // non-ASCII without capitals, and its ASCII look-alike: never equal
  'zoë@dup.test',
  'zoe@dup.test',
];

interface Group {
  key: string;
  users: number;
  first_user_id: number;
  last_user_id: number;
}

const byKey = (a: Group, b: Group) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

async function plainDefinition(trx: Knex.Transaction): Promise<Group[]> {
  const result = await trx.raw(
    `select 'email:' || lower(email) as key, count(*) as users, min(id) as first_user_id, max(id) as last_user_id
       from igny8_users group by lower(email) having count(*) > 1`,
  );
  return (result.rows as Group[]).map((row) => ({ ...row, users: Number(row.users) })).sort(byKey);
}

async function found(trx: Knex.Transaction, accountId?: number): Promise<Group[]> {
  const outcome = await check(trx, 'duplicate-emails', { accountId });
  if (outcome.kind !== 'ran') throw new Error(`duplicate-emails did not run: ${outcome.kind}`);
  expect(outcome.samples).toHaveLength(outcome.count);
  return outcome.samples
    .map((sample) => ({
      key: sample.key,
      users: Number(sample.users),
      first_user_id: Number(sample.first_user_id),
      last_user_id: Number(sample.last_user_id),
    }))
    .sort(byKey);
}

async function plantEmails(trx: Knex.Transaction, emails: readonly string[]): Promise<number> {
  const shape = await shapeOf(trx);
  const account = await makeAccount(trx, { plan: 'scale' });
  for (const email of emails) {
    await trx('igny8_users').insert({ email, password: 'pbkdf2_sha256$1$a$b', role: 'admin', [shape.of('igny8_users')]: account.id });
  }
  return account.id;
}

describeEachDatabase(
  'duplicate-emails against the plain definition',
  (fixture) => {
    it('finds every group lower() makes, and only those, with their first and last user', async () => {
      await inRollback(fixture.db.knex, async (trx) => {
        await plantEmails(trx, EMAILS);
        const expected = await plainDefinition(trx);
        expect(expected.map((group) => group.key)).toEqual(expect.arrayContaining(['email:ann@dup.test', 'email:bob@dup.test']));
        expect(expected.find((group) => group.key === 'email:ann@dup.test')?.users).toBe(3);
        expect(await found(trx)).toEqual(expected);
      });
    });

    it('scoped to an account, reports the groups that have a member there', async () => {
      await inRollback(fixture.db.knex, async (trx) => {
        const planted = await plantEmails(trx, ['dora@dup.test', 'Dora@dup.test']);
        const other = await plantEmails(trx, ['Eve@dup.test', 'eve@dup.test']);
        expect((await found(trx, planted)).map((group) => group.key)).toEqual(['email:dora@dup.test']);
        expect((await found(trx, other)).map((group) => group.key)).toEqual(['email:eve@dup.test']);
      });
    });

    it('without the unique email index, groups every user, exact twins included', async () => {
      await inRollback(fixture.db.knex, async (trx) => {
        await trx.raw('alter table igny8_users drop constraint igny8_users_email_key');
        await plantEmails(trx, [...EMAILS, 'twin@dup.test', 'twin@dup.test']);
        const expected = await plainDefinition(trx);
        expect(expected.find((group) => group.key === 'email:twin@dup.test')?.users).toBe(2);
        expect(await found(trx)).toEqual(expected);
      });
    });
  },
  { setup: (t) => prepareDatabase(t.db, 'legacy') },
);

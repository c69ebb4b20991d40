// seed #8: a payment method lived in three places that could disagree: accounts.payment_method,
// subscriptions.payment_method and igny8_account_payment_methods. The table becomes the only
// source, with exactly one default per account, chosen by precedence: an existing default row,
// then the subscription's method, then the account's. Every legacy value that has no row of
// its type yet gets one (non-default unless chosen), so no value vanishes; where the columns
// disagreed with the chosen default they are archived (for the down migration), then dropped.
import type { Migration } from '../db/migrations.js';
import { execStatements } from '../db/transaction.js';
import { paymentMethodDrift } from '../rules/payment-method-drift.js';
import { archiveLegacyValues, forgetLegacyValues, plural } from './support/ddl.js';
import { requireRuleClean } from './support/preconditions.js';

const NAME = '0013_payment_methods_consolidate';

/** The method each account's default should be when it has no default row: subscription's, else account's. */
const WANTED = `select a.id as account_id, coalesce(s.payment_method, a.payment_method) as type
                  from igny8_accounts a left join igny8_subscriptions s on s.account_id = a.id
                 where not exists (select 1 from igny8_account_payment_methods d where d.account_id = a.id and d.is_default)`;

const migration: Migration = {
  description: 'payment methods: one source, one default per account; the two payment_method columns dropped (seed #8)',
  phase: 'contract',
  locks: [
    { table: 'igny8_accounts', mode: 'ACCESS EXCLUSIVE', work: 'scan' },
    { table: 'igny8_subscriptions', mode: 'ACCESS EXCLUSIVE', work: 'scan' },
    { table: 'igny8_account_payment_methods', mode: 'SHARE', work: 'write' },
    { table: 'igny8_legacy_values', mode: 'ROW EXCLUSIVE', work: 'write' },
  ],
  async up({ trx, note }) {
    // Only several defaults block the one-default index; the rule's other findings are what
    // this migration consolidates.
    await requireRuleClean(trx, paymentMethodDrift, {
      guarantee: 'the one-default-payment-method index',
      only: 'f.defaults > 1',
      what: 'accounts with several default payment methods',
      one: 'account with several default payment methods',
      repairHint: 'it consolidates each account into one default payment method',
    });
    // An existing row of the wanted type becomes the default (the earliest, enabled first).
    const promoted = await trx.raw(
      `with wanted as (${WANTED}),
       pick as (
         select distinct on (m.account_id) m.id
           from igny8_account_payment_methods m join wanted w on w.account_id = m.account_id and w.type = m.type
          order by m.account_id, m.is_enabled desc, m.id),
       promoted as (
         update igny8_account_payment_methods m set is_default = true from pick where m.id = pick.id returning m.id),
       archived as (
         insert into igny8_legacy_values (migration, table_name, row_id, legacy, reason)
         select ?, 'igny8_account_payment_methods', id, '{"is_default": false}'::jsonb,
                'made the default: it matches the subscription''s or the account''s payment_method'
           from promoted returning 1)
       select count(*)::int as count from archived`,
      [NAME],
    );
    // Every legacy value without a row of its type gets one; the wanted one is the default.
    const inserted = await trx.raw(
      `with wanted as (${WANTED}),
       legacy as (
         select id as account_id, payment_method as type, 'igny8_accounts.payment_method' as source from igny8_accounts
         union all
         select account_id, payment_method, 'igny8_subscriptions.payment_method' from igny8_subscriptions),
       missing as (
         select l.account_id, l.type, jsonb_agg(l.source order by l.source) as sources
           from legacy l
          where not exists (select 1 from igny8_account_payment_methods m where m.account_id = l.account_id and m.type = l.type)
          group by l.account_id, l.type),
       inserted as (
         insert into igny8_account_payment_methods (account_id, type, is_default, metadata)
         select x.account_id, x.type, w.account_id is not null,
                jsonb_build_object('migrated_from', x.sources, 'migration', ?::text)
           from missing x left join wanted w on w.account_id = x.account_id and w.type = x.type
          order by x.account_id, x.type
         returning is_default)
       select count(*) filter (where is_default)::int as defaults, count(*) filter (where not is_default)::int as others
         from inserted`,
      [NAME],
    );
    // The columns' values are archived where they differ from the default now chosen (the
    // down migration restores the rest from the default itself).
    const archived = await archiveLegacyValues(
      trx,
      NAME,
      'igny8_accounts',
      `select a.id, jsonb_build_object('payment_method', a.payment_method, 'subscription_payment_method', s.payment_method),
              'accounts.payment_method / subscriptions.payment_method differing from the default payment method'
         from igny8_accounts a
         join igny8_account_payment_methods d on d.account_id = a.id and d.is_default
         left join igny8_subscriptions s on s.account_id = a.id
        where a.payment_method <> d.type or s.payment_method <> d.type`,
    );
    await execStatements(trx, [
      `alter table igny8_accounts drop column payment_method`,
      `alter table igny8_subscriptions drop column payment_method`,
      `create unique index igny8_account_payment_methods_one_default on igny8_account_payment_methods (account_id) where is_default`,
    ]);
    const { defaults, others } = inserted.rows[0] as { defaults: number; others: number };
    note(
      `payment methods: ${plural(promoted.rows[0].count, 'existing row')} made the default, ` +
        `${plural(defaults, 'default row')} and ${plural(others, 'other row')} created from the legacy columns; ` +
        `legacy values of ${plural(archived, 'account')} that disagreed with the default archived; accounts.payment_method and subscriptions.payment_method dropped`,
    );
  },
  async down({ trx }) {
    await execStatements(trx, [
      `drop index igny8_account_payment_methods_one_default`,
      `alter table igny8_accounts add column payment_method varchar(30) not null default 'stripe'`,
      `alter table igny8_subscriptions add column payment_method varchar(30) not null default 'stripe'`,
      // Accounts created since: their default method stands for both columns.
      `update igny8_accounts a set payment_method = m.type from igny8_account_payment_methods m
        where m.account_id = a.id and m.is_default`,
      `update igny8_subscriptions s set payment_method = m.type from igny8_account_payment_methods m
        where m.account_id = s.account_id and m.is_default`,
    ]);
    await trx.raw(
      `update igny8_accounts a set payment_method = v.legacy->>'payment_method' from igny8_legacy_values v
        where v.migration = ? and v.table_name = 'igny8_accounts' and v.row_id = a.id`,
      [NAME],
    );
    await trx.raw(
      `update igny8_subscriptions s set payment_method = v.legacy->>'subscription_payment_method' from igny8_legacy_values v
        where v.migration = ? and v.table_name = 'igny8_accounts' and v.row_id = s.account_id
          and v.legacy->>'subscription_payment_method' is not null`,
      [NAME],
    );
    await trx.raw(
      `update igny8_account_payment_methods m set is_default = false from igny8_legacy_values v
        where v.migration = ? and v.table_name = 'igny8_account_payment_methods' and v.row_id = m.id`,
      [NAME],
    );
    await trx.raw(`delete from igny8_account_payment_methods where metadata->>'migration' = ?`, [NAME]);
    await forgetLegacyValues(trx, NAME);
  },
};

export default migration;

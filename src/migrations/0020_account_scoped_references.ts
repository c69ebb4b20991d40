// No cross-tenant references: a row that points at another tenant row does so through a
// composite key (account_id, x_id) → (account_id, id), so a sector can never hang off another
// account's site, an access row never joins a user to another account's site, an invoice never
// names another account's subscription, an integration never serves another account's site.
// Legacy rows that do are for a person to resolve; until then the migration refuses.
import type { Knex } from 'knex';
import type { Migration } from '../db/migrator.js';
import { execStatements } from '../db/transaction.js';
import { sqlState, SqlState } from '../errors.js';
import { addForeignKey, singleColumnForeignKeys } from './support/ddl.js';
import { countRows, requireNoViolations } from './support/preconditions.js';

/** Each kind of reference: the composite key it gets and the query counting rows that cross accounts. */
const REFERENCES = [
  {
    kind: 'sector → site',
    table: 'igny8_sectors', column: 'site_id', references: 'igny8_sites',
    name: 'igny8_sectors_account_id_site_id_fkey',
    crossing: `select count(*) as count from igny8_sectors x join igny8_sites s on s.id = x.site_id where x.account_id <> s.account_id`,
  },
  {
    kind: 'access row → site',
    table: 'igny8_site_user_access', column: 'site_id', references: 'igny8_sites',
    name: 'igny8_site_user_access_account_id_site_id_fkey',
    crossing: `select count(*) as count from igny8_site_user_access x join igny8_sites s on s.id = x.site_id where x.account_id <> s.account_id`,
  },
  {
    kind: 'access row → user',
    table: 'igny8_site_user_access', column: 'user_id', references: 'igny8_users',
    name: 'igny8_site_user_access_account_id_user_id_fkey',
    crossing: `select count(*) as count from igny8_site_user_access x join igny8_users u on u.id = x.user_id where x.account_id <> u.account_id`,
  },
  {
    kind: 'invoice → subscription',
    table: 'igny8_invoices', column: 'subscription_id', references: 'igny8_subscriptions',
    name: 'igny8_invoices_account_id_subscription_id_fkey',
    crossing: `select count(*) as count from igny8_invoices x join igny8_subscriptions s on s.id = x.subscription_id where x.account_id <> s.account_id`,
  },
  {
    kind: 'integration → site',
    table: 'igny8_site_integrations', column: 'site_id', references: 'igny8_sites',
    name: 'igny8_site_integrations_account_id_site_id_fkey',
    crossing: `select count(*) as count from igny8_site_integrations x join igny8_sites s on s.id = x.site_id where x.account_id <> s.account_id`,
  },
] as const;

const REFERENCED = ['igny8_users', 'igny8_sites', 'igny8_subscriptions'] as const;
const accountKey = (table: string) => `${table}_account_id_id_key`;

async function crossingCounts(trx: Knex.Transaction): Promise<Array<{ kind: string; count: number }>> {
  const counts = [];
  for (const reference of REFERENCES) counts.push({ kind: reference.kind, count: await countRows(trx, reference.crossing) });
  return counts;
}

async function addAccountScopedKeys(trx: Knex.Transaction): Promise<void> {
  await execStatements(
    trx,
    REFERENCED.map((table) => `alter table ${table} add constraint ${accountKey(table)} unique (account_id, id)`),
  );
  for (const reference of REFERENCES) {
    await addForeignKey(trx, {
      table: reference.table,
      name: reference.name,
      columns: ['account_id', reference.column],
      references: reference.references,
      referencedColumns: ['account_id', 'id'],
    });
    // The single-column key is implied by the composite one (account_id is never NULL).
    for (const old of await singleColumnForeignKeys(trx, reference.table, reference.column, reference.references)) {
      await trx.raw(`alter table ${reference.table} drop constraint "${old}"`);
    }
  }
}

const migration: Migration = {
  description: 'composite keys (account_id, x_id) → (account_id, id): no row points into another account',
  async up({ trx, note }) {
    // Validating the keys reads the same rows a count would; so the keys are tried first, in a
    // savepoint, and only when one fails are the crossing rows counted for the refusal.
    try {
      await trx.transaction((savepoint) => addAccountScopedKeys(savepoint));
    } catch (error) {
      if (sqlState(error) !== SqlState.foreignKeyViolation) throw error;
      const counts = await crossingCounts(trx);
      await requireNoViolations(trx, {
        guarantee: 'the account-scoped foreign keys',
        countSql: `select ?::int as count`,
        bindings: [counts.reduce((sum, c) => sum + c.count, 0)],
        what: 'rows pointing into another account',
        one: 'row pointing into another account',
        checkId: 'cross-tenant-reference',
        noRepair: true,
        details: counts.filter((c) => c.count > 0).map((c) => `${c.kind}: ${c.count}`),
        resolve: 'for each row, decide which account it belongs to and move or re-point it',
      });
      throw error;
    }
    note(`${REFERENCES.length} references are now account-scoped: ${REFERENCES.map((r) => r.kind).join(', ')}`);
  },
  async down({ trx }) {
    for (const reference of REFERENCES) {
      await addForeignKey(trx, {
        table: reference.table,
        name: `${reference.table}_${reference.column}_fkey`,
        columns: [reference.column],
        references: reference.references,
        referencedColumns: ['id'],
      });
      await trx.raw(`alter table ${reference.table} drop constraint ${reference.name}`);
    }
    await execStatements(
      trx,
      REFERENCED.map((table) => `alter table ${table} drop constraint ${accountKey(table)}`),
    );
  },
};

export default migration;

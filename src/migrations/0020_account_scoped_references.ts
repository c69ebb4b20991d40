// No cross-tenant references: a row that points at another tenant row does so through a
// composite key (account_id, x_id) → (account_id, id), so a sector can never hang off another
// account's site, an access row never joins a user to another account's site, an invoice never
// names another account's subscription, an integration never serves another account's site.
// Legacy rows that do are for a person to resolve; until then the migration refuses.
import type { Knex } from 'knex';
import type { Migration } from '../db/migrations.js';
import { execStatements } from '../db/transaction.js';
import { sqlState, SqlState } from '../errors.js';
import { crossTenantReference } from '../rules/cross-tenant-reference.js';
import { readShape } from '../rules/shape.js';
import { addForeignKey, singleColumnForeignKeys } from './support/ddl.js';
import { requireRuleClean } from './support/preconditions.js';

/** Each kind of reference and the composite key it gets. */
const REFERENCES = [
  {
    kind: 'sector → site',
    table: 'igny8_sectors', column: 'site_id', references: 'igny8_sites',
    name: 'igny8_sectors_account_id_site_id_fkey',
  },
  {
    kind: 'access row → site',
    table: 'igny8_site_user_access', column: 'site_id', references: 'igny8_sites',
    name: 'igny8_site_user_access_account_id_site_id_fkey',
  },
  {
    kind: 'access row → user',
    table: 'igny8_site_user_access', column: 'user_id', references: 'igny8_users',
    name: 'igny8_site_user_access_account_id_user_id_fkey',
  },
  {
    kind: 'invoice → subscription',
    table: 'igny8_invoices', column: 'subscription_id', references: 'igny8_subscriptions',
    name: 'igny8_invoices_account_id_subscription_id_fkey',
  },
  {
    kind: 'integration → site',
    table: 'igny8_site_integrations', column: 'site_id', references: 'igny8_sites',
    name: 'igny8_site_integrations_account_id_site_id_fkey',
  },
] as const;

const REFERENCED = ['igny8_users', 'igny8_sites', 'igny8_subscriptions'] as const;
const accountKey = (table: string) => `${table}_account_id_id_key`;

/** The rows cross-tenant-reference finds, by kind ("sector → site: 3"), for the refusal. */
async function crossingsByKind(trx: Knex.Transaction): Promise<string[]> {
  const shape = await readShape(trx);
  if (crossTenantReference.verdict(shape)) return [];
  const query = crossTenantReference.findings(shape);
  const result = await trx.raw(`select f.kind, count(*)::int as count from (${query.sql}) f group by f.kind order by f.kind`, [
    ...(query.bindings ?? []),
  ]);
  return (result.rows as Array<{ kind: string; count: number }>).map((row) => `${row.kind}: ${row.count}`);
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
  phase: 'contract',
  locks: [
    { table: 'igny8_users', mode: 'ACCESS EXCLUSIVE', work: 'scan' },
    { table: 'igny8_sites', mode: 'ACCESS EXCLUSIVE', work: 'scan' },
    { table: 'igny8_subscriptions', mode: 'ACCESS EXCLUSIVE', work: 'scan' },
    { table: 'igny8_sectors', mode: 'ACCESS EXCLUSIVE', work: 'scan' },
    { table: 'igny8_site_user_access', mode: 'ACCESS EXCLUSIVE', work: 'scan' },
    { table: 'igny8_invoices', mode: 'ACCESS EXCLUSIVE', work: 'scan' },
    { table: 'igny8_site_integrations', mode: 'ACCESS EXCLUSIVE', work: 'scan' },
  ],
  async up({ trx, note }) {
    // Validating the keys reads the same rows a count would; so the keys are tried first, in a
    // savepoint, and only when one fails are the crossing rows counted for the refusal.
    try {
      await trx.transaction((savepoint) => addAccountScopedKeys(savepoint));
    } catch (error) {
      if (sqlState(error) !== SqlState.foreignKeyViolation) throw error;
      await requireRuleClean(trx, crossTenantReference, {
        guarantee: 'the account-scoped foreign keys',
        what: 'rows pointing into another account',
        one: 'row pointing into another account',
        details: await crossingsByKind(trx),
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

// igny8 catalog sync | show
import type { Command } from 'commander';
import { readCatalog, syncCatalog } from '../domain/catalog.js';
import { withTransaction } from '../db/transaction.js';
import { renderCatalog, renderCatalogChanges } from '../render/catalog.js';
import { runWith } from './runtime.js';

export default function configureCatalog(catalog: Command): void {
  catalog
    .command('sync')
    .description('make plans, industries and sectors match the catalog (one transaction, idempotent)')
    .option('--dry-run', 'show the field changes, write nothing')
    .option('-y, --yes', 'confirm a change of price or credits on plans with active subscriptions (applies from their next period)')
    .action(
      runWith<{ dryRun?: boolean; yes?: boolean }>(async (options, runtime) => {
        const db = await runtime.database();
        const dryRun = Boolean(options.dryRun);
        const changes = await withTransaction(db.knex, (trx) => syncCatalog(trx, undefined, { dryRun, confirmed: Boolean(options.yes) }));
        runtime.out.result({ dryRun, changed: changes.length, changes }, () => {
          for (const line of renderCatalogChanges(changes, dryRun)) runtime.out.print(line);
        });
      }),
    );

  catalog
    .command('show')
    .description('the plans, industries and sectors stored in the database')
    .action(
      runWith(async (_options, runtime) => {
        const view = await readCatalog((await runtime.database({ readOnly: true })).knex);
        runtime.out.result(view, () => {
          for (const table of renderCatalog(view, runtime.out.width)) runtime.out.print(table);
        });
      }),
    );
}

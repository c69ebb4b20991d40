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
    .action(
      runWith(async (_options, runtime) => {
        const db = await runtime.database();
        const changes = await withTransaction(db.knex, (trx) => syncCatalog(trx));
        runtime.out.result({ changed: changes.length, changes }, () => {
          for (const line of renderCatalogChanges(changes)) runtime.out.print(line);
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

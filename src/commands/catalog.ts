// igny8 catalog sync | show
import type { Command } from 'commander';
import { readCatalog, syncCatalog, type CatalogChange } from '../domain/catalog.js';
import { withTransaction } from '../db/transaction.js';
import { renderTable } from '../render/table.js';
import { runWith } from './runtime.js';
import { plural } from '../render/text.js';

function describeChange(change: CatalogChange): string {
  const fields = Object.entries(change.fields)
    .map(([field, { from, to }]) =>
      change.action === 'created' ? field : `${field} ${JSON.stringify(from)} → ${JSON.stringify(to)}`,
    )
    .join(', ');
  return `${change.action} ${change.entity} ${change.key}${change.action === 'updated' ? `: ${fields}` : ''}`;
}

export default function configureCatalog(catalog: Command): void {
  catalog
    .command('sync')
    .description('make plans, industries and sectors match the catalog (one transaction, idempotent)')
    .action(
      runWith(async (_options, runtime) => {
        const db = await runtime.database();
        const changes = await withTransaction(db.knex, (trx) => syncCatalog(trx));
        runtime.out.result({ changed: changes.length, changes }, () => {
          if (changes.length === 0) runtime.out.print('catalog in sync: nothing changed');
          for (const change of changes) runtime.out.print(describeChange(change));
          if (changes.length > 0) runtime.out.print(`${plural(changes.length, 'change')} written`);
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
          runtime.out.print(
            renderTable(
              ['plan', 'name', 'price', 'cycle', 'credits', 'sites', 'users', 'sectors/site'],
              view.plans.map((plan) => [
                String(plan.slug),
                String(plan.name),
                String(plan.price),
                String(plan.billing_cycle),
                Number(plan.included_credits),
                Number(plan.max_sites),
                Number(plan.max_users),
                plan.max_sectors_per_site === 0 ? 'unlimited' : (plan.max_sectors_per_site as number | null),
              ]),
              { width: runtime.out.width },
            ),
          );
          runtime.out.print(
            renderTable(
              ['industry', 'name', 'sectors'],
              view.industries.map((industry) => [
                String(industry.slug),
                String(industry.name),
                industry.sectors.map((sector) => String(sector.slug)).join(', '),
              ]),
              { width: runtime.out.width },
            ),
          );
        });
      }),
    );
}

// How the catalog looks: the changes `catalog sync` made, and `catalog show`'s tables.
import type { CatalogChange, CatalogView } from '../domain/catalog.js';
import { renderTable } from './table.js';
import { plural } from './text.js';

function describeChange(change: CatalogChange): string {
  const fields = Object.entries(change.fields)
    .map(([field, { from, to }]) =>
      change.action === 'created' ? field : `${field} ${JSON.stringify(from)} → ${JSON.stringify(to)}`,
    )
    .join(', ');
  const subscribers = change.activeSubscriptions
    ? ` (${plural(change.activeSubscriptions, 'active subscription')}: from their next period)`
    : '';
  return `${change.action} ${change.entity} ${change.key}${change.action === 'updated' ? `: ${fields}` : ''}${subscribers}`;
}

export function renderCatalogChanges(changes: readonly CatalogChange[], dryRun = false): string[] {
  if (changes.length === 0) return ['catalog in sync: nothing changed'];
  const lines = changes.map((change) =>
    dryRun ? describeChange(change).replace(/^(created|updated)/, (verb) => `would ${verb === 'created' ? 'create' : 'update'}`) : describeChange(change),
  );
  return [...lines, dryRun ? `${plural(changes.length, 'change')}; dry run, nothing written` : `${plural(changes.length, 'change')} written`];
}

export function renderCatalog(view: CatalogView, width: number): string[] {
  return [
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
      { width },
    ),
    renderTable(
      ['industry', 'name', 'sectors'],
      view.industries.map((industry) => [
        String(industry.slug),
        String(industry.name),
        industry.sectors.map((sector) => String(sector.slug)).join(', '),
      ]),
      { width },
    ),
  ];
}

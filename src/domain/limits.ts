// The plan limits, defined once for the domain commands and the audit checks, so data that
// `create-site` or `create-sector` accepts can never be flagged by `sector-limit-exceeded`
// or `site-limit-exceeded`, and the other way round.
//
// What counts: every row (active or not) of igny8_sites per account, igny8_sectors per
// site, igny8_users per account. A stored limit of 0 means unlimited for every limit
// (seed #7 made it so for sectors; sites and users follow the same rule, so one reading
// serves all three). In TypeScript an unlimited limit is `null`; in SQL it is NULL.
import type { SchemaInfo } from '../schema/inspect.js';

/** seed #7: the legacy `max_industries` column used NULL for "the default of 5". */
export const LEGACY_DEFAULT_SECTOR_LIMIT = 5;

/** null = unlimited. */
export type Limit = number | null;

/**
 * seed #7: the sectors a site may have. `0` means unlimited on both shapes (the migration
 * carries legacy values unchanged), and a legacy NULL means 5.
 */
export function effectiveSectorLimit(value: number | null | undefined): Limit {
  if (value === null || value === undefined) return LEGACY_DEFAULT_SECTOR_LIMIT;
  return value === 0 ? null : value;
}

/** The sites an account may have (`max_sites`; 0 = unlimited). */
export function siteLimit(maxSites: number): Limit {
  return maxSites === 0 ? null : maxSites;
}

/** The users an account may have (`max_users`; 0 = unlimited). */
export function userLimit(maxUsers: number): Limit {
  return maxUsers === 0 ? null : maxUsers;
}

/** True when `count` rows break the limit (the audit's question). */
export function exceedsLimit(count: number, limit: Limit): boolean {
  return limit !== null && count > limit;
}

/** True when one more row keeps within the limit (the domain's question before an insert). */
export function allowsAnother(count: number, limit: Limit): boolean {
  return !exceedsLimit(count + 1, limit);
}

/** The effective sector limit of plan alias `plan` as SQL (NULL = unlimited), on either shape. */
export function sectorLimitSql(schema: Pick<SchemaInfo, 'sectorLimitColumn'>, plan: string): string {
  const column = `${plan}.${schema.sectorLimitColumn}`;
  return `nullif(coalesce(${column}, ${LEGACY_DEFAULT_SECTOR_LIMIT}), 0)`;
}

/** The site limit of plan alias `plan` as SQL (NULL = unlimited). */
export function siteLimitSql(plan: string): string {
  return `nullif(${plan}.max_sites, 0)`;
}

/** The user limit of plan alias `plan` as SQL (NULL = unlimited). */
export function userLimitSql(plan: string): string {
  return `nullif(${plan}.max_users, 0)`;
}

/** SQL that is true when `count` breaks `limit` (a NULL limit is never broken). */
export function exceedsLimitSql(count: string, limit: string): string {
  return `(${limit} is not null and ${count} > ${limit})`;
}

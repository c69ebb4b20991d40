// seed #14: the one slug utility. Uniqueness is the database's job (a unique constraint);
// this code only proposes a slug, inserts, and on a unique violation of the slug retries
// with a numeric suffix inside a savepoint, so the surrounding transaction survives.
// There is no check-then-insert: a concurrent insert of the same slug is simply a retry.
import type { Knex } from 'knex';
import { sqlState, SqlState } from '../errors.js';

/** Lowercase ASCII words joined by '-', at most `maxLength` characters; '' when nothing is left. */
export function slugify(text: string, maxLength = 50): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return trimSlug(slug, maxLength);
}

function trimSlug(slug: string, maxLength: number): string {
  return slug.slice(0, maxLength).replace(/-+$/g, '');
}

/** `base` with the suffix `-n`, the base shortened so the whole fits in `maxLength`. */
export function withSuffix(base: string, n: number, maxLength: number): string {
  const suffix = `-${n}`;
  return `${trimSlug(base, maxLength - suffix.length) || 'x'}${suffix}`;
}

/** True when `error` is a unique violation on a key that includes the column `column`. */
export function isUniqueViolationOn(error: unknown, column: string): boolean {
  if (sqlState(error) !== SqlState.uniqueViolation) return false;
  const { detail, constraint } = error as { detail?: string; constraint?: string };
  const keyColumns = /Key \(([^)]*)\)=/.exec(detail ?? '')?.[1];
  if (keyColumns !== undefined) {
    return keyColumns.split(',').some((part) => part.trim().replace(/^"|"$/g, '') === column);
  }
  return typeof constraint === 'string' && constraint.includes(column);
}

export interface UniqueSlugInsert<T> {
  /** The text the slug is made from (a name). */
  source: string;
  /** Used when the source has no letters or digits at all. */
  fallback: string;
  maxLength: number;
  /** The table and the scope (e.g. account_id) inside which the slug must be unique: only for the suffix hint. */
  table: string;
  scope?: Record<string, unknown>;
  column?: string;
  /** Inserts the row with this slug; must throw the database's unique violation when the slug is taken. */
  insert(trx: Knex.Transaction, slug: string): Promise<T>;
}

const MAX_ATTEMPTS = 12;

/**
 * Inserts a row with a slug made unique by the database: `base`, then `base-2`, `base-3`...
 * After a collision, the next suffix is taken past the highest one in use (a hint to avoid
 * walking 2, 3, 4...; the unique constraint still decides), and each attempt runs in its own
 * savepoint, so a collision never aborts the caller's transaction.
 */
export async function insertWithUniqueSlug<T>(trx: Knex.Transaction, spec: UniqueSlugInsert<T>): Promise<{ row: T; slug: string }> {
  const column = spec.column ?? 'slug';
  const base = slugify(spec.source, spec.maxLength) || slugify(spec.fallback, spec.maxLength);
  let candidate = base;
  for (let attempt = 1; ; attempt++) {
    try {
      const row = await trx.transaction((savepoint) => spec.insert(savepoint, candidate));
      return { row, slug: candidate };
    } catch (error) {
      if (!isUniqueViolationOn(error, column) || attempt >= MAX_ATTEMPTS) throw error;
    }
    const next = attempt < MAX_ATTEMPTS - 2 ? (await highestSuffix(trx, spec, column, base)) + 1 : 0;
    // After repeated races, a random suffix ends the contention.
    candidate = withSuffix(base, next > 1 ? next : next === 0 ? randomSuffix() : 2, spec.maxLength);
  }
}

function randomSuffix(): number {
  return 100_000 + Math.floor(Math.random() * 900_000);
}

async function highestSuffix(trx: Knex.Transaction, spec: UniqueSlugInsert<unknown>, column: string, base: string): Promise<number> {
  const query = trx(spec.table)
    .max({ n: trx.raw(`(substring(?? from '-([0-9]{1,9})$'))::int`, [column]) })
    .where(column, 'like', `${base.replace(/[\\%_]/g, '\\$&')}-%`);
  for (const [key, value] of Object.entries(spec.scope ?? {})) query.where(key, value as Knex.Value);
  const [row] = (await query) as Array<{ n: number | null }>;
  return Math.max(1, row?.n ?? 1);
}

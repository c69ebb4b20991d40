// What every rule is judged against, read once per run: the shape of the database, what its
// schema guarantees, and the account scope.
import type { Knex } from 'knex';
import { inspectSchema } from '../schema/inspect.js';
import { loadConstraints } from './constraints.js';
import type { Shape } from './types.js';

export async function readShape(knex: Knex | Knex.Transaction, accountId?: number, credentialKey?: Buffer): Promise<Shape> {
  const [schema, constraints] = await Promise.all([inspectSchema(knex), loadConstraints(knex)]);
  return {
    schema,
    constraints,
    ...(accountId === undefined ? {} : { accountId }),
    ...(credentialKey === undefined ? {} : { credentialKey }),
  };
}

// Builds what every check receives: the shape, the constraints, the scope. Read once per
// run, so twenty checks do not inspect the catalog twenty times.
import type { Knex } from 'knex';
import { loadConstraints } from '../checks/constraints.js';
import type { CheckContext } from '../checks/types.js';
import { inspectSchema } from '../schema/inspect.js';

export interface ContextOptions {
  accountId?: number;
  sample?: number;
  suppressedKeys?: readonly string[];
}

export async function createCheckContext(
  knex: Knex | Knex.Transaction,
  options: ContextOptions = {},
): Promise<CheckContext> {
  const [schema, constraints] = await Promise.all([inspectSchema(knex), loadConstraints(knex)]);
  return {
    knex,
    schema,
    constraints,
    scope: options.accountId === undefined ? {} : { accountId: options.accountId },
    sample: options.sample ?? 3,
    suppressedKeys: options.suppressedKeys ?? [],
  };
}

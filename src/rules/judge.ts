// What a rule finds now: its finding SQL counted and sampled, plus what its spot check finds
// in Node. The audit judges with this, and so do the tests.
import type { Knex } from 'knex';
import { countFindings, type FindingCount } from './finding.js';
import type { Rule, Shape } from './types.js';

export async function judgeRule(
  knex: Knex.Transaction,
  rule: Rule,
  shape: Shape,
  options: { sample: number; suppressedKeys?: readonly string[] },
): Promise<FindingCount> {
  const found = await countFindings(knex, rule.findings(shape), options);
  const spotted = ((await rule.spotCheck?.(knex, shape)) ?? []).filter((sample) => !options.suppressedKeys?.includes(sample.key));
  if (spotted.length === 0) return found;
  return { ...found, count: found.count + spotted.length, samples: [...found.samples, ...spotted].slice(0, options.sample) };
}

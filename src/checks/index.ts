// The checks as a programmatic API: the registry, the contract, and the shortfall marker
// the repair of signup-credit-shortfall writes.
export { CHECKS, CHECK_IDS, findCheck, checkById } from './registry.js';
export type { Check, CheckContext, CheckOutcome, Sample, Severity } from './types.js';
export { SHORTFALL_MARKER, shortfallIdempotencyKey } from '../rules/signup-credit-shortfall.js';

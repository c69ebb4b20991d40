// igny8 as a library: `import { connect, runAudit } from 'igny8'`. The same functions the
// command line calls; the domain operations here parse their input with the command line's
// rules first (a ValidationError names the input's key), so bad input never reaches the
// database. docs/api.md shows them in use.
import type { Knex } from 'knex';
import type { z } from 'zod';
import { createSector as createSectorParsed } from './domain/sectors.js';
import { createSite as createSiteParsed } from './domain/sites.js';
import { debitAccountCredits, grantAccountCredits } from './domain/credit-operations.js';
import {
  addUserInputSchema,
  changeEmailInputSchema,
  createSectorInputSchema,
  createSiteInputSchema,
  creditInputSchema,
  deactivateUserInputSchema,
  registerInputSchema,
  siteAccessInputSchema,
  siteAccessListInputSchema,
  transferOwnershipInputSchema,
  validateInput,
} from './domain/inputs.js';
import { grantSiteAccess as grantSiteAccessParsed, listSiteAccess as listSiteAccessParsed, revokeSiteAccess as revokeSiteAccessParsed } from './domain/site-access.js';
import {
  addUser as addUserParsed,
  changeEmail as changeEmailParsed,
  deactivateUser as deactivateUserParsed,
  transferOwnership as transferOwnershipParsed,
  type UserOptions,
} from './domain/users.js';
import { registerAccount, type RegisterOptions } from './domain/register.js';
import { changePlanInputSchema, payInvoiceInputSchema, voidInvoiceInputSchema } from './domain/inputs.js';
import { payInvoice as payInvoiceParsed, voidInvoice as voidInvoiceParsed } from './domain/payments.js';
import { changePlan as changePlanParsed } from './domain/plan-change.js';

export { connect, type ConnectOptions, type Database, type DatabaseWhere } from './db/connect.js';
export { resolveDatabaseTarget, type DatabaseTarget } from './db/connection-string.js';
export { migrateLatest, migrateDown, migrationStatus, invalidMigrations, type RunReport } from './db/migrator.js';
export { adoptLegacyDatabase } from './db/adopt.js';
export { runAudit, type AuditOptions, type AuditReport, type CheckResult, type FailOn } from './audit/run.js';
export { planRepair, runRepairs, type RepairPlan, type RepairRunReport } from './repairs/run.js';
export { undoRepairRun, type UndoResult } from './repairs/undo.js';
export { runHistory, type RunSummary } from './repairs/runs.js';
export { pruneHistory, type PruneResult } from './audit/prune.js';
export { currentOperator, type Operator } from './operator.js';
export { RULES, RULE_IDS, REPAIRABLE_IDS, findRule } from './rules/registry.js';
export type { Rule, RuleRepair, Severity } from './rules/types.js';
export { syncCatalog, readCatalog } from './domain/catalog.js';
export { showAccount, type AccountView } from './domain/accounts.js';
export { withTransaction } from './db/transaction.js';
export { runBilling, billingHistory, type BillingRunInput, type BillingRunResult } from './domain/billing-run.js';
export { assertAccountCanGrow, GATED_STATUSES } from './domain/account-gate.js';
export {
  ExitCode,
  Igny8Error,
  UsageError,
  ValidationError,
  DomainRefusal,
  DatabaseUnavailable,
  InternalError,
  LockTimeout,
  classifyError,
} from './errors.js';

export type RegisterRequest = z.input<typeof registerInputSchema>;
export type CreateSiteRequest = z.input<typeof createSiteInputSchema>;
export type CreateSectorRequest = z.input<typeof createSectorInputSchema>;
export type CreditRequest = z.input<typeof creditInputSchema>;
export type AddUserRequest = z.input<typeof addUserInputSchema>;
export type ChangeEmailRequest = z.input<typeof changeEmailInputSchema>;
export type DeactivateUserRequest = z.input<typeof deactivateUserInputSchema>;
export type TransferOwnershipRequest = z.input<typeof transferOwnershipInputSchema>;
export type SiteAccessRequest = z.input<typeof siteAccessInputSchema>;
export type SiteAccessListRequest = z.input<typeof siteAccessListInputSchema>;

/** Registers an account and its owner (free: active with the plan's credits; paid: pending payment). */
export async function register(knex: Knex, request: RegisterRequest, options?: RegisterOptions) {
  return registerAccount(knex, validateInput(registerInputSchema, request), options);
}

/** Creates a site in an account, within its plan's limit; creator and owner get access. */
export async function createSite(knex: Knex, request: CreateSiteRequest) {
  return createSiteParsed(knex, validateInput(createSiteInputSchema, request));
}

/** Adds a sector of the site's industry to a site, within the plan's limit. */
export async function createSector(knex: Knex, request: CreateSectorRequest) {
  return createSectorParsed(knex, validateInput(createSectorInputSchema, request));
}

/** Grants credits through the credit service: balance and ledger row together, idempotent with a key. */
export async function grantCredits(knex: Knex, request: CreditRequest) {
  return grantAccountCredits(knex, validateInput(creditInputSchema, request));
}

/** Debits credits, never below zero. */
export async function debitCredits(knex: Knex, request: CreditRequest) {
  return debitAccountCredits(knex, validateInput(creditInputSchema, request));
}

export type PayInvoiceRequest = z.input<typeof payInvoiceInputSchema>;
export type VoidInvoiceRequest = z.input<typeof voidInvoiceInputSchema>;
export type ChangePlanRequest = z.input<typeof changePlanInputSchema>;

/** Records an invoice's payment: a period's credits once, keyed by its number; the account active again. */
export async function payInvoice(knex: Knex, request: PayInvoiceRequest) {
  return payInvoiceParsed(knex, validateInput(payInvoiceInputSchema, request));
}

/** Voids an unpaid invoice. */
export async function voidInvoice(knex: Knex, request: VoidInvoiceRequest) {
  return voidInvoiceParsed(knex, validateInput(voidInvoiceInputSchema, request));
}

/** Moves an account to another plan: upgrades now with a prorated invoice, downgrades at period end. */
export async function changePlan(knex: Knex, request: ChangePlanRequest) {
  return changePlanParsed(knex, validateInput(changePlanInputSchema, request));
}

/** Adds a member to an account, within its plan's max_users. */
export async function addUser(knex: Knex, request: AddUserRequest, options?: UserOptions) {
  return addUserParsed(knex, validateInput(addUserInputSchema, request), options);
}

/** Changes a user's email (the exact address first; `userId` among case variants). */
export async function changeEmail(knex: Knex, request: ChangeEmailRequest) {
  return changeEmailParsed(knex, validateInput(changeEmailInputSchema, request));
}

/** Deactivates a member; never the owner. */
export async function deactivateUser(knex: Knex, request: DeactivateUserRequest) {
  return deactivateUserParsed(knex, validateInput(deactivateUserInputSchema, request));
}

/** Makes another member the owner; the owner before becomes admin. */
export async function transferOwnership(knex: Knex, request: TransferOwnershipRequest) {
  return transferOwnershipParsed(knex, validateInput(transferOwnershipInputSchema, request));
}

/** Gives a member of the site's account access to the site. */
export async function grantSiteAccess(knex: Knex, request: SiteAccessRequest) {
  return grantSiteAccessParsed(knex, validateInput(siteAccessInputSchema, request));
}

/** Takes a member's access to a site away; never the owner's. */
export async function revokeSiteAccess(knex: Knex, request: SiteAccessRequest) {
  return revokeSiteAccessParsed(knex, validateInput(siteAccessInputSchema, request));
}

/** The access rows of a site, or of every site of an account. */
export async function listSiteAccess(knex: Knex, request: SiteAccessListRequest) {
  return listSiteAccessParsed(knex, validateInput(siteAccessListInputSchema, request));
}

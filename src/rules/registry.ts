// Every rule, in the order the audit runs and reports them: identity and ownership first,
// then sites and limits, plans and subscriptions, credits, billing, access and secrets; and
// the order `repair --all` repairs them in, so each repair's rows are settled before a later
// one reads them.
import { DomainRefusal, ValidationError } from '../errors.js';
import { accountWithoutOwner } from './account-without-owner.js';
import { creditBalanceDrift } from './credit-balance-drift.js';
import { credentialsUndecryptable } from './credentials-undecryptable.js';
import { crossTenantReference } from './cross-tenant-reference.js';
import { duplicateEmails } from './duplicate-emails.js';
import { invoiceBillingSnapshotMissing } from './invoice-billing-snapshot-missing.js';
import { ledgerChainBroken } from './ledger-chain-broken.js';
import { inactiveAccountActivity } from './inactive-account-activity.js';
import { ledgerNegativeBalance } from './ledger-negative-balance.js';
import { multipleOwners } from './multiple-owners.js';
import { orphanUsers } from './orphan-users.js';
import { ownerRoleMismatch } from './owner-role-mismatch.js';
import { paidInvoiceCreditsMissing } from './paid-invoice-credits-missing.js';
import { paymentMethodDrift } from './payment-method-drift.js';
import { pendingPaymentIncomplete } from './pending-payment-incomplete.js';
import { planCatalogDrift } from './plan-catalog-drift.js';
import { plaintextCredentials } from './plaintext-credentials.js';
import { sectorIndustryMismatch } from './sector-industry-mismatch.js';
import { sectorLimitExceeded } from './sector-limit-exceeded.js';
import { signupCreditShortfall } from './signup-credit-shortfall.js';
import { siteAccessMissing } from './site-access-missing.js';
import { siteIndustryNull } from './site-industry-null.js';
import { siteLimitExceeded } from './site-limit-exceeded.js';
import { subscriptionPeriodStale } from './subscription-period-stale.js';
import { subscriptionPlanDrift } from './subscription-plan-drift.js';
import { subscriptionPlanMissing } from './subscription-plan-missing.js';
import type { Rule } from './types.js';

export const RULES: readonly Rule[] = [
  orphanUsers,
  accountWithoutOwner,
  multipleOwners,
  ownerRoleMismatch,
  duplicateEmails,
  siteIndustryNull,
  sectorIndustryMismatch,
  sectorLimitExceeded,
  siteLimitExceeded,
  planCatalogDrift,
  subscriptionPlanMissing,
  subscriptionPlanDrift,
  subscriptionPeriodStale,
  creditBalanceDrift,
  ledgerChainBroken,
  ledgerNegativeBalance,
  signupCreditShortfall,
  paymentMethodDrift,
  pendingPaymentIncomplete,
  paidInvoiceCreditsMissing,
  invoiceBillingSnapshotMissing,
  siteAccessMissing,
  inactiveAccountActivity,
  plaintextCredentials,
  credentialsUndecryptable,
  crossTenantReference,
];

/**
 * `repair --all`'s order: a recovery account exists before owners are counted, the catalog is
 * right before signup credits are measured, subscriptions exist before payment methods are
 * consolidated, the ledger adds up before a shortfall is granted on top of it.
 */
const REPAIR_ORDER: readonly Rule[] = [
  planCatalogDrift,
  orphanUsers,
  accountWithoutOwner,
  ownerRoleMismatch,
  multipleOwners,
  pendingPaymentIncomplete,
  subscriptionPlanMissing,
  paymentMethodDrift,
  invoiceBillingSnapshotMissing,
  creditBalanceDrift,
  signupCreditShortfall,
  paidInvoiceCreditsMissing,
  plaintextCredentials,
  siteIndustryNull,
  siteAccessMissing,
];

export const RULE_IDS: readonly string[] = RULES.map((rule) => rule.id);

export function findRule(id: string): Rule | undefined {
  return RULES.find((rule) => rule.id === id);
}

/** The rules that have a repair, in the order `repair --all` runs them. */
export function repairableRules(): readonly Rule[] {
  return REPAIR_ORDER;
}

export const REPAIRABLE_IDS: readonly string[] = REPAIR_ORDER.map((rule) => rule.id);

/**
 * The rule ids to repair, validated: an unknown id is bad input (exit 2); a rule with no
 * repair is refused (exit 3), since a person has to decide what its rows become.
 */
export function resolveRepairIds(ids: readonly string[], all: boolean): string[] {
  if (all) return [...REPAIRABLE_IDS];
  if (ids.length === 0) throw new ValidationError('ID', 'name at least one check id, or use --all');
  for (const id of ids) {
    const rule = findRule(id);
    if (!rule) {
      throw new ValidationError('ID', `no check "${id}"`, { details: [`repairable checks: ${REPAIRABLE_IDS.join(', ')}`] });
    }
    if (rule.repair) continue;
    throw new DomainRefusal(`${id} has no automatic repair: a person decides what its rows become`, {
      code: 'no-repair',
      details: [`list the rows with \`igny8 audit --check ${id} --sample 100\``, rule.remedy],
    });
  }
  return REPAIRABLE_IDS.filter((id) => ids.includes(id));
}

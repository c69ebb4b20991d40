// Every check, in the order the audit runs and reports them: identity and ownership first,
// then sites and limits, plans and subscriptions, credits, billing, access and secrets.
import { accountWithoutOwner } from './account-without-owner.js';
import { creditBalanceDrift } from './credit-balance-drift.js';
import { crossTenantReference } from './cross-tenant-reference.js';
import { duplicateEmails } from './duplicate-emails.js';
import { invoiceBillingSnapshotMissing } from './invoice-billing-snapshot-missing.js';
import { ledgerChainBroken } from './ledger-chain-broken.js';
import { multipleOwners } from './multiple-owners.js';
import { orphanUsers } from './orphan-users.js';
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
import { subscriptionPlanDrift } from './subscription-plan-drift.js';
import { subscriptionPlanMissing } from './subscription-plan-missing.js';
import type { Check } from './types.js';

export const CHECKS: readonly Check[] = [
  orphanUsers,
  accountWithoutOwner,
  multipleOwners,
  duplicateEmails,
  siteIndustryNull,
  sectorIndustryMismatch,
  sectorLimitExceeded,
  siteLimitExceeded,
  planCatalogDrift,
  subscriptionPlanMissing,
  subscriptionPlanDrift,
  creditBalanceDrift,
  ledgerChainBroken,
  signupCreditShortfall,
  paymentMethodDrift,
  pendingPaymentIncomplete,
  invoiceBillingSnapshotMissing,
  siteAccessMissing,
  plaintextCredentials,
  crossTenantReference,
];

export const CHECK_IDS: readonly string[] = CHECKS.map((check) => check.id);

export function findCheck(id: string): Check | undefined {
  return CHECKS.find((check) => check.id === id);
}

/** Alias kept for readability at call sites that must have the check. */
export const checkById = findCheck;

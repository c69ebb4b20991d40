// Every repair, in the order `repair --all` runs them: each one's rows are settled before a
// later one reads them (a recovery account exists before owners are counted, the catalog
// is right before signup credits are measured, subscriptions exist before payment methods
// are consolidated, the ledger adds up before a shortfall is granted on top of it).
import { findCheck } from '../checks/index.js';
import { DomainRefusal, ValidationError } from '../errors.js';
import { accountWithoutOwner } from './account-without-owner.js';
import { creditBalanceDrift } from './credit-balance-drift.js';
import { invoiceBillingSnapshotMissing } from './invoice-billing-snapshot-missing.js';
import { multipleOwners } from './multiple-owners.js';
import { orphanUsers } from './orphan-users.js';
import { paymentMethodDrift } from './payment-method-drift.js';
import { pendingPaymentIncomplete } from './pending-payment-incomplete.js';
import { plaintextCredentials } from './plaintext-credentials.js';
import { planCatalogDrift } from './plan-catalog-drift.js';
import { signupCreditShortfall } from './signup-credit-shortfall.js';
import { siteAccessMissing } from './site-access-missing.js';
import { siteIndustryNull } from './site-industry-null.js';
import { subscriptionPlanMissing } from './subscription-plan-missing.js';
import type { Repair } from './types.js';

const REPAIRS: readonly Repair[] = [
  planCatalogDrift,
  orphanUsers,
  accountWithoutOwner,
  multipleOwners,
  pendingPaymentIncomplete,
  subscriptionPlanMissing,
  paymentMethodDrift,
  invoiceBillingSnapshotMissing,
  creditBalanceDrift,
  signupCreditShortfall,
  plaintextCredentials,
  siteIndustryNull,
  siteAccessMissing,
];

export function orderedRepairs(): readonly Repair[] {
  return REPAIRS;
}

export function findRepair(checkId: string): Repair | undefined {
  return REPAIRS.find((repair) => repair.checkId === checkId);
}

export const REPAIRABLE_IDS: readonly string[] = REPAIRS.map((repair) => repair.checkId);

/**
 * The check ids to repair, validated: an unknown id is a usage error (exit 2); a check with
 * no repair is refused (exit 3), since a person has to decide what its rows become.
 */
export function resolveRepairIds(ids: readonly string[], all: boolean): string[] {
  if (all) return [...REPAIRABLE_IDS];
  if (ids.length === 0) throw new ValidationError('ID', 'name at least one check id, or use --all');
  for (const id of ids) {
    if (findRepair(id)) continue;
    const check = findCheck(id);
    if (!check) {
      throw new ValidationError('ID', `no check "${id}"`, {
        details: [`repairable checks: ${REPAIRABLE_IDS.join(', ')}`],
      });
    }
    throw new DomainRefusal(`${id} has no automatic repair: a person decides what its rows become`, {
      code: 'no-repair',
      details: [`list the rows with \`igny8 audit --check ${id} --sample 100\``, check.remedy],
    });
  }
  return REPAIRABLE_IDS.filter((id) => ids.includes(id));
}

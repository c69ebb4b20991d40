// seed #8: igny8_account_payment_methods is the only place a payment method lives; an
// account has at most one default (a partial unique index guarantees it).
import type { Knex } from 'knex';
import type { PaymentMethodType } from './inputs.js';

export const PAYMENT_METHOD_LABELS: Record<PaymentMethodType, string> = {
  stripe: 'Card (Stripe)',
  paypal: 'PayPal',
  bank_transfer: 'Bank transfer',
  local_wallet: 'Local wallet',
  manual: 'Manual payment',
};

export interface PaymentMethodSummary {
  id: number;
  type: string;
  displayName: string;
  isDefault: boolean;
  isVerified: boolean;
}

/** The account's default payment method, as registration creates it: enabled, not yet verified. */
export async function createDefaultPaymentMethod(
  trx: Knex.Transaction,
  accountId: number,
  type: PaymentMethodType,
): Promise<PaymentMethodSummary> {
  const [row] = (await trx('igny8_account_payment_methods')
    .insert({
      account_id: accountId,
      type,
      display_name: PAYMENT_METHOD_LABELS[type],
      is_default: true,
      is_enabled: true,
      is_verified: false,
    })
    .returning(['id', 'type', 'display_name', 'is_default', 'is_verified'])) as Array<{
    id: number;
    type: string;
    display_name: string;
    is_default: boolean;
    is_verified: boolean;
  }>;
  return { id: row.id, type: row.type, displayName: row.display_name, isDefault: row.is_default, isVerified: row.is_verified };
}

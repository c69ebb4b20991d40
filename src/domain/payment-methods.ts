// seed #8: igny8_account_payment_methods is the only place a payment method lives; an
// account has at most one default (a partial unique index guarantees it).
import type { Knex } from 'knex';
import type { PaymentMethodType } from './inputs.js';

export const PAYMENT_METHODS_TABLE = 'igny8_account_payment_methods';

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

/** The label of payment method type `type` (an SQL expression): the type itself when it has none. */
function labelSql(type: string): string {
  const labels = JSON.stringify(PAYMENT_METHOD_LABELS).replace(/'/g, "''");
  return `coalesce('${labels}'::jsonb->>${type}, ${type})`;
}

/**
 * A new payment method row, as registration makes one: labelled by its type, enabled, not yet
 * verified, no instructions. `source` is a FROM item aliased `v` with columns account_id,
 * type and is_default; `metadata` a jsonb expression. The domain and the repairs that create
 * payment methods insert through this one definition.
 */
export function newPaymentMethodsSql(
  accountColumn: string,
  source: string,
  metadata = `'{}'::jsonb`,
): { columns: string; select: string } {
  return {
    columns: `${accountColumn}, type, display_name, is_default, is_enabled, is_verified, instructions, metadata`,
    select: `select v.account_id, v.type, ${labelSql('v.type')}, v.is_default, true, false, '', ${metadata} from ${source}`,
  };
}

/** The account's default payment method, as registration creates it: enabled, not yet verified. */
export async function createDefaultPaymentMethod(
  trx: Knex.Transaction,
  accountId: number,
  type: PaymentMethodType,
): Promise<PaymentMethodSummary> {
  const insert = newPaymentMethodsSql('account_id', `(select ?::bigint as account_id, ?::text as type, true as is_default) v`);
  const result = await trx.raw(
    `insert into ${PAYMENT_METHODS_TABLE} (${insert.columns}) ${insert.select}
     returning id, type, display_name, is_default, is_verified`,
    [accountId, type],
  );
  const [row] = result.rows as Array<{ id: number; type: string; display_name: string; is_default: boolean; is_verified: boolean }>;
  return { id: row.id, type: row.type, displayName: row.display_name, isDefault: row.is_default, isVerified: row.is_verified };
}

// igny8 invoice pay|void NUMBER: record a payment (activating what it pays for, crediting the
// period once) or void an unpaid invoice.
import type { Command } from 'commander';
import { payInvoice, voidInvoice } from '../domain/payments.js';
import { payInvoiceInputSchema, voidInvoiceInputSchema } from '../domain/inputs.js';
import { renderInvoiceOutcome } from '../render/domain.js';
import { withFlagNames } from './domain-flags.js';
import { runWith } from './runtime.js';
import { parseInput } from './validate.js';

const ARGUMENT = { number: 'NUMBER' };

export default function configureInvoice(command: Command): void {
  command
    .command('pay')
    .description("mark an invoice paid: a signup's or renewal's account and subscription become active, the period's credits are granted once")
    .argument('<number>', 'the invoice number, e.g. INV-00000042')
    .option('--reference <text>', "the payment's reference (bank transfer, processor charge id), kept on the invoice")
    .option('--paid-at <time>', 'when the payment arrived: 2026-01-31 or 2026-01-31T12:00:00Z (default: now)')
    .action(
      runWith<{ reference?: string; paidAt?: string }>(async (options, runtime, args) => {
        const input = withArgumentName(() => parseInput(payInvoiceInputSchema, { ...options, number: args[0] }));
        const db = await runtime.database();
        const result = await withFlagNames(() => payInvoice(db.knex, input), ARGUMENT);
        runtime.out.result(result, () => {
          for (const line of renderInvoiceOutcome(result, 'pay')) runtime.out.print(line);
        });
      }),
    );
  command
    .command('void')
    .description('void an unpaid invoice: nobody owes it any more (a paid invoice cannot be voided)')
    .argument('<number>', 'the invoice number, e.g. INV-00000042')
    .action(
      runWith<Record<string, never>>(async (_options, runtime, args) => {
        const input = withArgumentName(() => parseInput(voidInvoiceInputSchema, { number: args[0] }));
        const db = await runtime.database();
        const result = await withFlagNames(() => voidInvoice(db.knex, input), ARGUMENT);
        runtime.out.result(result, () => {
          for (const line of renderInvoiceOutcome(result, 'void')) runtime.out.print(line);
        });
      }),
    );
}

/** The invoice number is an argument, not a flag: its errors name NUMBER. */
function withArgumentName<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof Error && 'field' in error && (error as { field: string }).field === '--number') {
      throw (error as unknown as { renamed(field: string): Error }).renamed('NUMBER');
    }
    throw error;
  }
}

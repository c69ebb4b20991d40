// igny8 debit-credits: credits taken from an account through the credit service, never below
// zero, optionally idempotent.
import type { Command } from 'commander';
import type { z } from 'zod';
import { debitAccountCredits } from '../domain/credit-operations.js';
import { debitInputSchema } from '../domain/inputs.js';
import { renderCreditResult } from '../render/domain.js';
import { withFlagNames } from './domain-flags.js';
import { runWith } from './runtime.js';
import { parseInput } from './validate.js';

export default function configureDebitCredits(command: Command): void {
  command
    .requiredOption('--account <slug>', "the account's slug")
    .requiredOption('--amount <n>', 'credits to take, 1 to 2147483647; refused beyond the balance')
    .requiredOption('--reason <text>', 'why, kept in the ledger')
    .option('--idempotency-key <key>', 'a retry with the same key debits nothing twice')
    .action(
      runWith<z.input<typeof debitInputSchema>>(async (options, runtime) => {
        const input = parseInput(debitInputSchema, options);
        const db = await runtime.database();
        const result = await withFlagNames(() => debitAccountCredits(db.knex, input));
        runtime.out.result(result, () => {
          for (const line of renderCreditResult(result)) runtime.out.print(line);
        });
      }),
    );
}

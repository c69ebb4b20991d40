// igny8 grant-credits: credits to an account through the credit service, optionally idempotent.
import type { Command } from 'commander';
import type { z } from 'zod';
import { Option } from 'commander';
import { grantAccountCredits } from '../domain/credit-operations.js';
import { GRANT_TYPES } from '../domain/credits.js';
import { creditInputSchema } from '../domain/inputs.js';
import { renderCreditResult } from '../render/domain.js';
import { withFlagNames } from './domain-flags.js';
import { runWith } from './runtime.js';
import { parseInput } from './validate.js';

export default function configureGrantCredits(command: Command): void {
  command
    .requiredOption('--account <slug>', "the account's slug")
    .requiredOption('--amount <n>', 'credits to grant, 1 to 2147483647')
    .requiredOption('--reason <text>', 'why, kept in the ledger')
    .option('--idempotency-key <key>', 'a retry with the same key grants nothing twice')
    .addOption(new Option('--type <type>', 'the ledger entry type').choices(GRANT_TYPES).default('adjustment'))
    .action(
      runWith<z.input<typeof creditInputSchema>>(async (options, runtime) => {
        const input = parseInput(creditInputSchema, options);
        const db = await runtime.database();
        const result = await withFlagNames(() => grantAccountCredits(db.knex, input));
        runtime.out.result(result, () => {
          for (const line of renderCreditResult(result)) runtime.out.print(line);
        });
      }),
    );
}

// igny8 account show SLUG|EMAIL
import type { Command } from 'commander';
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { showAccount } from '../domain/accounts.js';
import { accountKeySchema } from '../domain/inputs.js';
import { renderAccount } from '../render/domain.js';
import { withFlagNames } from './domain-flags.js';
import { runWith } from './runtime.js';
import { parseInput } from './validate.js';

const showSchema = z.object({
  ledger: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(0).max(1000),
});

function parseAccountKey(value: string | undefined): string {
  const parsed = accountKeySchema.safeParse(value);
  if (!parsed.success) throw new ValidationError('SLUG|EMAIL', parsed.error.issues[0].message, { cause: parsed.error });
  return parsed.data;
}

export default function configureAccount(command: Command): void {
  command
    .command('show')
    .description('an account: users and roles, subscription, invoices, payment methods, sites, balance, last ledger rows')
    .argument('<slug|email>', "the account's slug, or the email of one of its users")
    .option('--ledger <n>', 'how many ledger rows to show', '10')
    .action(
      runWith<{ ledger: string }>(async (options, runtime, args) => {
        const key = parseAccountKey(args[0]);
        const input = parseInput(showSchema, { ledger: options.ledger });
        const db = await runtime.database({ readOnly: true });
        const view = await withFlagNames(() => showAccount(db.knex, key, input.ledger), { account: 'SLUG|EMAIL' });
        runtime.out.result(view, () => {
          for (const line of renderAccount(view, runtime.out.width)) runtime.out.print(line);
        });
      }),
    );
}

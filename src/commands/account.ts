// igny8 account show SLUG|EMAIL; igny8 account transfer-ownership --account SLUG --to EMAIL
import type { Command } from 'commander';
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { showAccount } from '../domain/accounts.js';
import { accountKeySchema, transferOwnershipInputSchema } from '../domain/inputs.js';
import { transferOwnership } from '../domain/users.js';
import { renderAccount } from '../render/domain.js';
import { renderOwnershipTransfer } from '../render/users.js';
import { withFlagNames } from './domain-flags.js';
import { helpFooter } from '../io/help.js';
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

  command
    .command('transfer-ownership')
    .description('make another member the owner; the owner before becomes admin (exactly one owner before and after)')
    .requiredOption('--account <slug>', "the account's slug")
    .requiredOption('--to <email>', 'the member who becomes the owner')
    .addHelpText('after', helpFooter(`
The new owner gets access to every site of the account. Exit 2: invalid input, unknown account or user. Exit 3: not a member of the account, deactivated, or the account has no owner or several (the repair is named).`))
    .action(
      runWith<z.input<typeof transferOwnershipInputSchema>>(async (options, runtime) => {
        const input = parseInput(transferOwnershipInputSchema, options);
        const db = await runtime.database();
        const result = await withFlagNames(() => transferOwnership(db.knex, input));
        runtime.out.result(result, () => {
          for (const line of renderOwnershipTransfer(result)) runtime.out.print(line);
        });
      }),
    );
}

// igny8 register: an account and its owner, on a free or paid plan, in one transaction.
import type { Command } from 'commander';
import { Option } from 'commander';
import type { z } from 'zod';
import { PAYMENT_METHODS, registerInputSchema } from '../domain/inputs.js';
import { registerAccount } from '../domain/register.js';
import { renderRegistration } from '../render/domain.js';
import { readPassword, withFlagNames } from './domain-flags.js';
import { runWith } from './runtime.js';
import { parseInput } from './validate.js';

/** The flags: the registration's inputs (the password arrives apart) and where the password comes from. */
type RegisterFlags = Omit<z.input<typeof registerInputSchema>, 'password'> & { passwordStdin?: boolean; password?: string };

export default function configureRegister(command: Command): void {
  command
    .requiredOption('--email <email>', "the owner's email, unique ignoring case")
    .option('--password-stdin', 'read the password from stdin')
    .addOption(new Option('--password <password>', 'the password on the command line (unsafe: prefer --password-stdin)').hideHelp())
    .requiredOption('--account-name <name>', "the account's name; its slug is made from it")
    .requiredOption('--plan <slug>', 'free, starter, growth or scale; see `igny8 catalog show`')
    .option('--payment-method <type>', `paid plans: ${PAYMENT_METHODS.join(', ')} (default: stripe)`)
    .option('--billing-email <email>', "where invoices go (default: the owner's email)")
    .option('--first-name <name>', "the owner's first name")
    .option('--last-name <name>', "the owner's last name")
    .option('--billing-address <line>', 'billing address, first line')
    .option('--billing-city <city>', 'billing city')
    .option('--billing-country <code>', 'billing country, two letters (ISO 3166)')
    .addHelpText(
      'after',
      [
        '',
        'Example:',
        '  printf %s "$PASSWORD" | igny8 register --email ann@example.com \\',
        '    --password-stdin --account-name "Ann Ltd" --plan starter \\',
        '    --payment-method bank_transfer',
      ].join('\n'),
    )
    .action(
      runWith<RegisterFlags>(async (options, runtime) => {
        const password = await readPassword(runtime, options);
        const input = parseInput(registerInputSchema, { ...options, password });
        const db = await runtime.database();
        const registration = await withFlagNames(() => registerAccount(db.knex, input));
        runtime.out.result(registration, () => {
          for (const line of renderRegistration(registration)) runtime.out.print(line);
        });
      }),
    );
}

// igny8 user add | change-email | deactivate: the members of an account.
import type { Command } from 'commander';
import { Option } from 'commander';
import type { z } from 'zod';
import { addUserInputSchema, changeEmailInputSchema, deactivateUserInputSchema, MEMBER_ROLES } from '../domain/inputs.js';
import { addUser, changeEmail, deactivateUser } from '../domain/users.js';
import { renderAddedUser, renderChangedEmail, renderDeactivatedUser } from '../render/users.js';
import { readPassword, withFlagNames } from './domain-flags.js';
import { helpFooter } from '../io/help.js';
import { runWith } from './runtime.js';
import { parseInput } from './validate.js';

type AddFlags = Omit<z.input<typeof addUserInputSchema>, 'password'> & { passwordStdin?: boolean; password?: string };

export default function configureUser(command: Command): void {
  command
    .command('add')
    .description("add a user to an account, within its plan's max_users")
    .requiredOption('--account <slug>', "the account's slug")
    .requiredOption('--email <email>', "the user's email, unique ignoring case")
    .addOption(new Option('--role <role>', 'the role in the account').choices(MEMBER_ROLES).makeOptionMandatory())
    .option('--password-stdin', 'read a password from stdin (without it the user has none until set in the application)')
    .addOption(new Option('--password <password>', 'the password on the command line (unsafe: prefer --password-stdin)').hideHelp())
    .option('--first-name <name>', "the user's first name")
    .option('--last-name <name>', "the user's last name")
    .addHelpText('after', helpFooter(`
Exit 2: invalid input (the flag named), unknown account. Exit 3: the plan's max_users reached, email already registered (ignoring case).`))
    .action(
      runWith<AddFlags>(async (options, runtime) => {
        const password = options.passwordStdin || options.password !== undefined ? await readPassword(runtime, options) : undefined;
        const input = parseInput(addUserInputSchema, { ...options, password });
        const db = await runtime.database();
        const result = await withFlagNames(() => addUser(db.knex, input));
        runtime.out.result(result, () => {
          for (const line of renderAddedUser(result)) runtime.out.print(line);
        });
      }),
    );

  command
    .command('change-email')
    .description('change a user\'s email (the exact address first; several equal ignoring case need --user-id)')
    .requiredOption('--from <email>', 'the current email')
    .requiredOption('--to <email>', 'the new email, unique ignoring case')
    .option('--user-id <id>', 'the user, when several emails equal --from ignoring case')
    .addHelpText('after', helpFooter(`
Exit 2: invalid input, no such user, several users equal to --from ignoring case (listed; choose with --user-id). Exit 3: --to already registered (ignoring case).`))
    .action(
      runWith<z.input<typeof changeEmailInputSchema>>(async (options, runtime) => {
        const input = parseInput(changeEmailInputSchema, options);
        const db = await runtime.database();
        const result = await withFlagNames(() => changeEmail(db.knex, input));
        runtime.out.result(result, () => {
          for (const line of renderChangedEmail(result)) runtime.out.print(line);
        });
      }),
    );

  command
    .command('deactivate')
    .description('deactivate a user (never the owner: transfer the ownership first)')
    .requiredOption('--email <email>', "the user's email")
    .option('--user-id <id>', 'the user, when several emails equal --email ignoring case')
    .addHelpText('after', helpFooter(`
Exit 2: invalid input, no such user. Exit 3: the user is the account's owner (igny8 account transfer-ownership first).`))
    .action(
      runWith<z.input<typeof deactivateUserInputSchema>>(async (options, runtime) => {
        const input = parseInput(deactivateUserInputSchema, options);
        const db = await runtime.database();
        const result = await withFlagNames(() => deactivateUser(db.knex, input));
        runtime.out.result(result, () => {
          for (const line of renderDeactivatedUser(result)) runtime.out.print(line);
        });
      }),
    );
}

// igny8 site access grant | revoke | list: the granular site access rows (seed #10).
import type { Command } from 'commander';
import type { z } from 'zod';
import { siteAccessInputSchema, siteAccessListInputSchema } from '../domain/inputs.js';
import { grantSiteAccess, listSiteAccess, revokeSiteAccess } from '../domain/site-access.js';
import { renderSiteAccessChange, renderSiteAccessList } from '../render/users.js';
import { withFlagNames } from './domain-flags.js';
import { helpFooter } from '../io/help.js';
import { runWith } from './runtime.js';
import { parseInput } from './validate.js';

type ChangeFlags = z.input<typeof siteAccessInputSchema>;

export default function configureSite(command: Command): void {
  const access = command.command('access').description('who may work on a site');
  for (const verb of ['grant', 'revoke'] as const) {
    const sub = access
      .command(verb)
      .description(verb === 'grant' ? 'give a member of the account access to a site' : "take a member's access to a site away (never the owner's)")
      .requiredOption('--site <id|slug>', "the site's id, or its slug")
      .option('--account <slug>', 'the account, when several accounts have a site of that slug')
      .requiredOption('--email <email>', 'the member');
    if (verb === 'grant') sub.option('--by <email>', 'the member who grants it, recorded with the row');
    sub.addHelpText(
      'after',
      helpFooter(`
Exit 2: invalid input, unknown site, account or user. Exit 3: the user is not a member of the site's account${verb === 'grant' ? ', or is deactivated' : ", or owns it (the owner keeps access to every site)"}.`),
    );
    sub.action(
      runWith<ChangeFlags>(async (options, runtime) => {
        const input = parseInput(siteAccessInputSchema, options);
        const db = await runtime.database();
        const result = await withFlagNames(() => (verb === 'grant' ? grantSiteAccess : revokeSiteAccess)(db.knex, input));
        runtime.out.result(result, () => {
          for (const line of renderSiteAccessChange(result, verb)) runtime.out.print(line);
        });
      }),
    );
  }
  access
    .command('list')
    .description("the access rows of a site, or of every site of an account")
    .option('--site <id|slug>', "the site's id, or its slug")
    .option('--account <slug>', "the account's sites (with --site: the account the site belongs to)")
    .action(
      runWith<z.input<typeof siteAccessListInputSchema>>(async (options, runtime) => {
        const input = parseInput(siteAccessListInputSchema, options);
        const db = await runtime.database({ readOnly: true });
        const rows = await withFlagNames(() => listSiteAccess(db.knex, input));
        runtime.out.result(rows, () => {
          for (const line of renderSiteAccessList(rows, runtime.out.width)) runtime.out.print(line);
        });
      }),
    );
}

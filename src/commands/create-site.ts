// igny8 create-site: a site in an account, within its plan's site limit.
import type { Command } from 'commander';
import type { z } from 'zod';
import { createSiteInputSchema } from '../domain/inputs.js';
import { createSite } from '../domain/sites.js';
import { renderCreatedSite } from '../render/domain.js';
import { withFlagNames } from './domain-flags.js';
import { runWith } from './runtime.js';
import { parseInput } from './validate.js';

export default function configureCreateSite(command: Command): void {
  command
    .requiredOption('--account <slug>', "the account's slug")
    .requiredOption('--name <name>', "the site's name; its slug is made from it")
    .requiredOption('--domain <domain>', 'a host name or http(s) URL, e.g. https://example.com')
    .requiredOption('--industry <slug>', 'the industry; see `igny8 catalog show`')
    .option('--by <email>', 'the creating user, a member of the account (default: the owner)')
    .option('--description <text>', 'a description')
    .action(
      runWith<z.input<typeof createSiteInputSchema>>(async (options, runtime) => {
        const input = parseInput(createSiteInputSchema, options);
        const db = await runtime.database();
        const site = await withFlagNames(() => createSite(db.knex, input));
        runtime.out.result(site, () => {
          for (const line of renderCreatedSite(site)) runtime.out.print(line);
        });
      }),
    );
}

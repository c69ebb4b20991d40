// Every command of the CLI, in the order --help lists them. A command's module is loaded
// only when that command runs (or its help is asked for): `igny8 --help` then needs no
// zod, knex or domain code, and starts in well under 200 ms.
import type { Command } from 'commander';

export interface CommandEntry {
  name: string;
  description: string;
  /** Adds the command's options, subcommands and action to the created command. */
  load(): Promise<(command: Command) => void>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'migrate',
    description: 'apply, inspect, revert or adopt schema migrations',
    load: () => import('./migrate.js').then((m) => m.default),
  },
  {
    name: 'catalog',
    description: 'plans, industries and industry sectors from the catalog fixture',
    load: () => import('./catalog.js').then((m) => m.default),
  },
  {
    name: 'register',
    description: 'create an account and its owner on a free or paid plan (one transaction)',
    load: () => import('./register.js').then((m) => m.default),
  },
  {
    name: 'create-site',
    description: "create a site in an account, within its plan's site limit",
    load: () => import('./create-site.js').then((m) => m.default),
  },
  {
    name: 'create-sector',
    description: "add a sector of the site's industry to a site, within the plan's limit",
    load: () => import('./create-sector.js').then((m) => m.default),
  },
  {
    name: 'grant-credits',
    description: 'grant credits to an account through the credit service (ledgered, idempotent with a key)',
    load: () => import('./grant-credits.js').then((m) => m.default),
  },
  {
    name: 'change-plan',
    description: 'move an account to another plan: upgrades now with a prorated invoice, downgrades at period end',
    load: () => import('./change-plan.js').then((m) => m.default),
  },
  {
    name: 'debit-credits',
    description: 'take credits from an account through the credit service, never below zero',
    load: () => import('./debit-credits.js').then((m) => m.default),
  },
  {
    name: 'invoice',
    description: 'pay or void an invoice: payment activates the account and credits the period once',
    load: () => import('./invoice.js').then((m) => m.default),
  },
  {
    name: 'billing',
    description: 'billing run: renewals, monthly credits, overdue invoices and suspensions for every account, idempotent',
    load: () => import('./billing.js').then((m) => m.default),
  },
  {
    name: 'user',
    description: "add a user to an account, change a user's email, deactivate a user",
    load: () => import('./user.js').then((m) => m.default),
  },
  {
    name: 'site',
    description: 'site access: grant, revoke or list the users with access to a site',
    load: () => import('./site.js').then((m) => m.default),
  },
  {
    name: 'account',
    description: 'inspect an account (users, subscription, invoices, payment methods, sites, ledger); transfer its ownership',
    load: () => import('./account.js').then((m) => m.default),
  },
  {
    name: 'audit',
    description: 'run the integrity checks; the exit code gates CI',
    load: () => import('./audit.js').then((m) => m.default),
  },
  {
    name: 'seed',
    description: 'build test databases (seed legacy: the legacy shape with planted defects)',
    load: () => import('./seed.js').then((m) => m.default),
  },
  {
    name: 'repair',
    description: 'fix what the checks find: prints the plan, --yes applies it with a log of every changed row',
    load: () => import('./repair.js').then((m) => m.default),
  },
  {
    name: 'rotate-key',
    description: 'move every stored credential to a new key (IGNY8_SECRET_KEY → IGNY8_NEW_SECRET_KEY), resumable',
    load: () => import('./rotate-key.js').then((m) => m.default),
  },
  {
    name: 'demo',
    description: 'the whole journey on a throwaway embedded database: legacy data, audit, migrate, repair, clean audit',
    load: () => import('./demo.js').then((m) => m.default),
  },
];

const GLOBAL_OPTIONS_WITH_VALUE = new Set(['--database-url', '-d']);

/** The command named on the command line (`help X` names X), if any. */
export function invokedCommand(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (GLOBAL_OPTIONS_WITH_VALUE.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    return arg === 'help' ? args.slice(i + 1).find((next) => !next.startsWith('-')) : arg;
  }
  return undefined;
}

export async function registerCommands(program: Command, args: readonly string[]): Promise<void> {
  const invoked = invokedCommand(args);
  for (const entry of COMMANDS) {
    const command = program.command(entry.name).description(entry.description);
    if (entry.name === invoked) (await entry.load())(command);
  }
}

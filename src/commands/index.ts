// Every command of the CLI, in the order --help lists them.
import type { Command } from 'commander';
import { registerCatalog } from './catalog.js';
import { registerMigrate } from './migrate.js';

export function registerCommands(program: Command): void {
  registerMigrate(program);
  registerCatalog(program);
}

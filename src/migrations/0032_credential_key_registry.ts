// One key per database: the registry of the key credentials are encrypted under. The first
// encryption creates it where it runs before this migration (a repair on the legacy shape);
// here every database gets it, so a new database and a migrated one end the same.
import type { Migration } from '../db/migrations.js';
import { ensureKeyRegistry, KEY_REGISTRY_TABLE } from '../crypto/key-registry.js';

const migration: Migration = {
  description: 'the registry of the key stored credentials are encrypted under',
  phase: 'expand',
  locks: [],
  async up({ trx }) {
    await ensureKeyRegistry(trx);
  },
  async down({ trx }) {
    // Nothing is lost: every envelope names its key's fingerprint, and a key that is not the
    // one stored credentials name is refused with or without the registry.
    await trx.raw(`drop table if exists ${KEY_REGISTRY_TABLE}`);
  },
};

export default migration;

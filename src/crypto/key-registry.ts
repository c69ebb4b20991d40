// One key per database. The fingerprint of the key that encrypts a database's credentials is
// recorded the first time anything is encrypted; from then on every command that encrypts or
// decrypts refuses (exit 3) a key with another fingerprint, instead of mixing two keys in one
// table. `igny8 rotate-key` is the one way to change it: while it runs, the new key is
// recorded as `next`, and other commands wait for the rotation to finish.
//
// The registry is created on first use (credentials are first encrypted by a repair that can
// run before the migration chain is through) and by migration 0032 everywhere else.
import type { Knex } from 'knex';
import { DomainRefusal } from '../errors.js';
import { igny8Version } from '../version.js';
import { keyFingerprint } from './envelope.js';

export const KEY_REGISTRY_TABLE = 'igny8_credential_keys';

export interface KeyState {
  /** The fingerprint every stored credential is encrypted under; none before the first encryption. */
  current?: string;
  /** During a rotation: the fingerprint credentials are being moved to. */
  next?: string;
}

type Querier = Knex | Knex.Transaction;

export async function ensureKeyRegistry(knex: Querier): Promise<void> {
  await knex.raw(`create table if not exists ${KEY_REGISTRY_TABLE} (
    fingerprint varchar(64) primary key,
    state varchar(10) not null check (state in ('current', 'next', 'retired')),
    recorded_at timestamptz not null default now(),
    igny8_version varchar(50)
  )`);
}

export async function keyState(knex: Querier): Promise<KeyState> {
  const present = await knex.raw(`select to_regclass(?) is not null as present`, [KEY_REGISTRY_TABLE]);
  if (!present.rows[0].present) return {};
  const rows = (await knex(KEY_REGISTRY_TABLE).whereIn('state', ['current', 'next']).select('fingerprint', 'state')) as Array<{
    fingerprint: string;
    state: 'current' | 'next';
  }>;
  return Object.fromEntries(rows.map((row) => [row.state, row.fingerprint]));
}

/** Fingerprints found in stored envelopes other than `fingerprint` (credentials encrypted before the registry existed). */
async function otherStoredFingerprint(knex: Querier, fingerprint: string): Promise<string | undefined> {
  const present = await knex.raw(`select to_regclass('igny8_site_integrations') is not null as present`);
  if (!present.rows[0].present) return undefined;
  const result = await knex.raw(
    `select e.value->>'kid' as kid
       from igny8_site_integrations i,
            jsonb_each(case when jsonb_typeof(i.credentials_json) = 'object' then i.credentials_json else '{}'::jsonb end) e
      where jsonb_typeof(e.value) = 'object' and e.value->>'kid' <> ?
      limit 1`,
    [fingerprint],
  );
  return (result.rows[0] as { kid?: string } | undefined)?.kid;
}

function mismatch(given: string, expected: string): DomainRefusal {
  return new DomainRefusal(`the secret key given is not this database's key: its fingerprint is ${given}, the credentials here are encrypted under ${expected}`, {
    code: 'secret-key-mismatch',
    details: [
      'give the key this database was encrypted with (IGNY8_SECRET_KEY or IGNY8_SECRET_KEY_FILE)',
      'to change keys, run `igny8 rotate-key` with IGNY8_SECRET_KEY and IGNY8_NEW_SECRET_KEY',
    ],
  });
}

/** Refuses (exit 3) unless `key` is the database's key, or no key is recorded yet. Reads only. */
export async function assertDatabaseKey(knex: Querier, key: Buffer): Promise<void> {
  const fingerprint = keyFingerprint(key);
  const state = await keyState(knex);
  if (state.next) {
    throw new DomainRefusal(`a key rotation to ${state.next} is not finished: run \`igny8 rotate-key\` again to complete it`, {
      code: 'key-rotation-in-progress',
    });
  }
  const expected = state.current ?? (await otherStoredFingerprint(knex, fingerprint));
  if (expected && expected !== fingerprint) throw mismatch(fingerprint, expected);
}

/**
 * Before encrypting with `key` in transaction `trx`: refuses a key that is not the database's,
 * and records the key's fingerprint when it is the first.
 */
export async function claimDatabaseKey(trx: Knex.Transaction, key: Buffer): Promise<void> {
  await assertDatabaseKey(trx, key);
  await ensureKeyRegistry(trx);
  await trx(KEY_REGISTRY_TABLE)
    .insert({ fingerprint: keyFingerprint(key), state: 'current', igny8_version: igny8Version() })
    .onConflict('fingerprint')
    .ignore();
}

// `igny8 rotate-key`: every stored credential moves from the database's key to a new one.
// Batches of rows, each one transaction: a row is decrypted with the current key and encrypted
// with the new one. The new key is recorded as `next` first, so a run that is killed is
// resumed by the next one (rows already under the new key are skipped), and other commands
// that encrypt or decrypt refuse until it is done. Only when no envelope under any other key
// is left does the new key become `current`: at the end, no row is under two keys.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Database } from '../db/connect.js';
import { withMigrationLock } from '../db/lock.js';
import { withTransaction } from '../db/transaction.js';
import { decryptSecret, encryptSecret, isEnvelope, keyFingerprint, keyState, KEY_REGISTRY_TABLE } from '../crypto/index.js';
import { ensureKeyRegistry } from '../crypto/key-registry.js';
import { DomainRefusal, ValidationError } from '../errors.js';
import { currentOperator, type Operator } from '../operator.js';
import { REPAIR_LOG_TABLE } from '../repairs/log.js';
import { recordRunEnd, recordRunStart } from '../repairs/runs.js';
import { igny8Version } from '../version.js';

/** Where envelopes are stored: each column is walked whole, envelopes found at any depth. */
const LOCATIONS = [
  { table: 'igny8_site_integrations', column: 'credentials_json', logged: true },
  { table: 'igny8_legacy_values', column: 'legacy', logged: true },
  // The repair log's images keep the envelopes a repair wrote; they move with the key too.
  { table: REPAIR_LOG_TABLE, column: 'before', logged: false },
  { table: REPAIR_LOG_TABLE, column: 'after', logged: false },
] as const;

/** SQL: the jsonb value holds an envelope not encrypted under the fingerprint bound as `kid`. */
export function holdsEnvelopeNotUnder(column: string): string {
  // `\\?` is knex's literal question mark: the jsonpath filter, not a binding.
  return `jsonb_path_exists(${column}, '$.** \\? (@.alg == "aes-256-gcm" && (!exists(@.kid) || @.kid != $kid))', jsonb_build_object('kid', ?::text))`;
}

export interface RotateKeyInput {
  /** The database's key now (IGNY8_SECRET_KEY). */
  from: Buffer;
  /** The key to move to (IGNY8_NEW_SECRET_KEY). */
  to: Buffer;
  batchSize?: number;
  onBatch?(location: string, rows: number): void;
  /** Runs after each batch's writes, before its commit (a test's seam to interrupt a rotation). */
  beforeCommit?(batch: number): Promise<void>;
  /** Who runs it and why, recorded with the run; default: the current OS user, no reason. */
  operator?: Operator;
}

export interface RotateKeyResult {
  runId: string;
  from: string;
  to: string;
  /** Rows whose envelopes were re-encrypted, per table. */
  rows: Record<string, number>;
  envelopes: number;
  batches: number;
  /** The database was already under the new key: nothing to do. */
  alreadyRotated: boolean;
  /** This run finished a rotation an earlier run had begun. */
  resumed: boolean;
}

async function tableExists(knex: Knex | Knex.Transaction, table: string): Promise<boolean> {
  return (await knex.raw(`select to_regclass(?) is not null as present`, [table])).rows[0].present === true;
}

/** Re-encrypts every envelope in `value` not under `to`; counts what it changed. */
function reencrypt(value: unknown, from: Buffer, to: Buffer, toFingerprint: string, counter: { envelopes: number }): unknown {
  if (Array.isArray(value)) return value.map((item) => reencrypt(item, from, to, toFingerprint, counter));
  if (value === null || typeof value !== 'object') return value;
  if (isEnvelope(value)) {
    if (value.kid === toFingerprint) return value;
    counter.envelopes += 1;
    return encryptSecret(decryptSecret(value, from), to);
  }
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, reencrypt(inner, from, to, toFingerprint, counter)]));
}

/** The fingerprints of the envelopes in `value`, where they are (what the log keeps: never a ciphertext). */
function kidsOf(value: unknown, path = '$'): Record<string, string | null> {
  if (value === null || typeof value !== 'object') return {};
  if (isEnvelope(value)) return { [path]: value.kid ?? null };
  const entries = Array.isArray(value) ? value.map((inner, index) => [String(index), inner] as const) : Object.entries(value);
  return Object.assign({}, ...entries.map(([key, inner]) => kidsOf(inner, `${path}.${key}`)));
}

async function begin(db: Database, fromFingerprint: string, toFingerprint: string): Promise<{ alreadyRotated: boolean; resumed: boolean }> {
  return withTransaction(db.knex, async (trx) => {
    await ensureKeyRegistry(trx);
    await trx.raw(`lock table ${KEY_REGISTRY_TABLE} in exclusive mode`);
    const state = await keyState(trx);
    if (state.next) {
      if (state.next !== toFingerprint) {
        throw new DomainRefusal(`a rotation to another key (${state.next}) is not finished: run rotate-key again with that key as IGNY8_NEW_SECRET_KEY`, {
          code: 'key-rotation-in-progress',
        });
      }
      if (state.current !== fromFingerprint) {
        throw new DomainRefusal(`IGNY8_SECRET_KEY (${fromFingerprint}) is not the key this rotation moves from (${state.current ?? 'none'})`, {
          code: 'secret-key-mismatch',
        });
      }
      return { alreadyRotated: false, resumed: true };
    }
    if (state.current === toFingerprint) return { alreadyRotated: true, resumed: false };
    if (state.current !== undefined && state.current !== fromFingerprint) {
      throw new DomainRefusal(`IGNY8_SECRET_KEY is not this database's key: its fingerprint is ${fromFingerprint}, the credentials here are encrypted under ${state.current}`, {
        code: 'secret-key-mismatch',
      });
    }
    const version = igny8Version();
    if (state.current === undefined) await trx(KEY_REGISTRY_TABLE).insert({ fingerprint: fromFingerprint, state: 'current', igny8_version: version });
    await trx(KEY_REGISTRY_TABLE)
      .insert({ fingerprint: toFingerprint, state: 'next', igny8_version: version })
      .onConflict('fingerprint')
      .merge({ state: 'next', recorded_at: trx.fn.now() });
    return { alreadyRotated: false, resumed: false };
  });
}

async function finish(db: Database, fromFingerprint: string, toFingerprint: string): Promise<void> {
  await withTransaction(db.knex, async (trx) => {
    for (const location of LOCATIONS) {
      if (!(await tableExists(trx, location.table))) continue;
      const left = await trx.raw(`select count(*) as n from ${location.table} where ${holdsEnvelopeNotUnder(location.column)}`, [toFingerprint]);
      if (Number(left.rows[0].n) > 0) {
        throw new DomainRefusal(`${location.table} still holds credentials under another key: run rotate-key again`, { code: 'key-rotation-incomplete' });
      }
    }
    await trx(KEY_REGISTRY_TABLE).where({ fingerprint: fromFingerprint }).update({ state: 'retired' });
    await trx(KEY_REGISTRY_TABLE).where({ fingerprint: toFingerprint }).update({ state: 'current' });
  });
}

/** Moves every stored credential from `from` to `to`, a batch per transaction; resumable. */
export async function rotateKey(db: Database, input: RotateKeyInput): Promise<RotateKeyResult> {
  const fromFingerprint = keyFingerprint(input.from);
  const toFingerprint = keyFingerprint(input.to);
  if (fromFingerprint === toFingerprint) {
    throw new ValidationError('IGNY8_NEW_SECRET_KEY', 'is the same key as IGNY8_SECRET_KEY');
  }
  const batchSize = input.batchSize ?? 1_000;
  const result: RotateKeyResult = {
    runId: randomUUID(),
    from: fromFingerprint,
    to: toFingerprint,
    rows: {},
    envelopes: 0,
    batches: 0,
    alreadyRotated: false,
    resumed: false,
  };
  // Under the migration lock: no migration or repair writes credentials while they move.
  return withMigrationLock(db, async () => {
    const started = await begin(db, fromFingerprint, toFingerprint);
    result.alreadyRotated = started.alreadyRotated;
    result.resumed = started.resumed;
    if (started.alreadyRotated) return result;
    await recordRunStart(db.knex, { runId: result.runId, kind: 'rotate-key', operator: input.operator ?? currentOperator() });
    for (const location of LOCATIONS) {
      if (!(await tableExists(db.knex, location.table))) continue;
      let last = 0;
      for (;;) {
        const changed = await withTransaction(db.knex, async (trx) => {
          const rows = (
            await trx.raw(
              `select id, ${location.column} as value from ${location.table}
                where id > ? and ${holdsEnvelopeNotUnder(location.column)}
                order by id limit ? for update`,
              [last, toFingerprint, batchSize],
            )
          ).rows as Array<{ id: number; value: unknown }>;
          if (rows.length === 0) return 0;
          const counter = { envelopes: 0 };
          const updates = rows.map((row) => ({
            id: Number(row.id),
            before: kidsOf(row.value),
            value: reencrypt(row.value, input.from, input.to, toFingerprint, counter),
          }));
          const withAfter = updates.map((update) => ({ ...update, after: kidsOf(update.value) }));
          await trx.raw(
            `update ${location.table} t set ${location.column} = u.value
               from jsonb_to_recordset(?::jsonb) as u(id bigint, value jsonb) where t.id = u.id`,
            [JSON.stringify(withAfter.map(({ id, value }) => ({ id, value })))],
          );
          if (location.logged) {
            // The log keeps which key each credential was under, before and after: never a ciphertext.
            await trx(REPAIR_LOG_TABLE).insert(
              withAfter.map((update) => ({
                run_id: result.runId,
                check_id: 'rotate-key',
                table_name: location.table,
                row_pk: JSON.stringify({ id: update.id }),
                before: JSON.stringify({ [location.column]: update.before }),
                after: JSON.stringify({ [location.column]: update.after }),
              })),
            );
          }
          last = Number(rows[rows.length - 1]!.id);
          result.envelopes += counter.envelopes;
          result.batches += 1;
          await input.beforeCommit?.(result.batches);
          return rows.length;
        });
        if (changed === 0) break;
        result.rows[location.table] = (result.rows[location.table] ?? 0) + changed;
        input.onBatch?.(location.table, changed);
      }
    }
    await finish(db, fromFingerprint, toFingerprint);
    await recordRunEnd(db.knex, result.runId);
    return result;
  });
}

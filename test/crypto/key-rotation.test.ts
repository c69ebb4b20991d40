// One key per database, and a rotation that moves every stored credential to a new key in
// resumable batches: a wrong key is refused before anything is written, a rotation killed
// half-way is finished by the next run, and at the end no credential is under two keys.
import { spawn } from 'node:child_process';
import { beforeAll, expect, it } from 'vitest';
import { decryptSecret, isEnvelope, keyFingerprint } from '../../src/crypto/index.js';
import { runCli } from '../helpers/cli.js';
import { describeEachDatabase, withTestDatabase } from '../helpers/databases.js';
import { all } from '../helpers/sql.js';

const KEY_A = 'a1'.repeat(32);
const KEY_B = 'b2'.repeat(32);
const KEY_C = 'c3'.repeat(32);
const WP_SECRET = 'wp-app-pa55-ünïcödé';

function keyBuffer(hex: string): Buffer {
  return Buffer.from(hex, 'hex');
}

describeEachDatabase(
  'one key per database, and rotate-key',
  (fx) => {
    const run = (args: string[], env: Record<string, string | undefined> = {}) => runCli(args, { env: { ...fx.t.env, ...env } });

    /** Every envelope stored anywhere, with where it is. */
    async function envelopes(): Promise<Array<{ where: string; envelope: Record<string, unknown> }>> {
      return withTestDatabase(fx.t, async (db) => {
        const found: Array<{ where: string; envelope: Record<string, unknown> }> = [];
        const walk = (where: string, value: unknown): void => {
          if (value === null || typeof value !== 'object') return;
          if (isEnvelope(value)) found.push({ where, envelope: value as unknown as Record<string, unknown> });
          else for (const [key, inner] of Object.entries(value)) walk(`${where}.${key}`, inner);
        };
        for (const row of await all<{ id: number; credentials_json: unknown }>(db.knex, 'select id, credentials_json from igny8_site_integrations')) {
          walk(`integration:${row.id}`, row.credentials_json);
        }
        for (const row of await all<{ id: number; legacy: unknown }>(db.knex, 'select id, legacy from igny8_legacy_values')) walk(`legacy:${row.id}`, row.legacy);
        return found;
      });
    }

    beforeAll(async () => {
      // A legacy database whose sites hold WordPress passwords in plaintext, migrated under key A.
      expect((await run(['seed', 'legacy', '--accounts', '200', '--seed', '4', '--defect-rate', '0'])).code).toBe(0);
      await withTestDatabase(fx.t, (db) =>
        db.knex.raw(`update igny8_sites set wp_url = 'https://wp.example', wp_app_password = ? where id in (select id from igny8_sites order by id limit 30)`, [WP_SECRET]),
      );
      const migrated = await run(['migrate'], { IGNY8_SECRET_KEY: KEY_A });
      expect(migrated.code).toBe(0);
    }, 180_000);

    it('records the key the credentials were first encrypted under; every envelope carries its fingerprint', async () => {
      const stored = await envelopes();
      expect(stored.length).toBeGreaterThanOrEqual(30);
      expect(new Set(stored.map(({ envelope }) => envelope.kid))).toEqual(new Set([keyFingerprint(keyBuffer(KEY_A))]));
      const registry = await withTestDatabase(fx.t, (db) => all(db.knex, 'select fingerprint, state from igny8_credential_keys'));
      expect(registry).toEqual([{ fingerprint: keyFingerprint(keyBuffer(KEY_A)), state: 'current' }]);
    });

    it('the audit verifies stored credentials with the key given, and finds none wrong', async () => {
      const result = await run(['--json', 'audit', '--check', 'credentials-undecryptable'], { IGNY8_SECRET_KEY: KEY_A });
      expect(JSON.parse(result.stdout).checks[0]).toMatchObject({ status: 'ok', count: 0 });
      const wrong = await run(['--json', 'audit', '--check', 'credentials-undecryptable'], { IGNY8_SECRET_KEY: KEY_C });
      expect(wrong.code).toBe(1);
      expect(JSON.parse(wrong.stdout).checks[0].count).toBeGreaterThanOrEqual(30);
    });

    it('rotate-key with a key that is not the database\'s is refused, naming the fingerprint it expected', async () => {
      const result = await run(['rotate-key'], { IGNY8_SECRET_KEY: KEY_C, IGNY8_NEW_SECRET_KEY: KEY_B });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain(`encrypted under ${keyFingerprint(keyBuffer(KEY_A))}`);
      expect(new Set((await envelopes()).map(({ envelope }) => envelope.kid))).toEqual(new Set([keyFingerprint(keyBuffer(KEY_A))]));
    });

    it('a rotation killed half-way is refused elsewhere, finished by the next run, and leaves one key', async () => {
      const child = spawn(process.execPath, [new URL('../helpers/rotate-runner.mjs', import.meta.url).pathname, '2'], {
        env: { ...process.env, ...fx.t.env, IGNY8_SECRET_KEY: KEY_A, IGNY8_NEW_SECRET_KEY: KEY_B },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      await new Promise<void>((resolve, reject) => {
        let err = '';
        child.stderr.on('data', (chunk) => {
          err += chunk;
          if (err.includes('batch 2 written')) resolve();
        });
        child.on('exit', () => reject(new Error(`the rotation ended before its pause: ${err}`)));
      });
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('close', resolve));
      const mixed = new Set((await envelopes()).map(({ envelope }) => envelope.kid));
      expect(mixed).toEqual(new Set([keyFingerprint(keyBuffer(KEY_A)), keyFingerprint(keyBuffer(KEY_B))]));
      // Meanwhile a repair that would encrypt refuses: the rotation is not finished.
      const repair = await run(['repair', 'plaintext-credentials', '--yes'], { IGNY8_SECRET_KEY: KEY_A });
      expect(repair.code).toBe(3);
      expect(repair.stderr).toMatch(/a key rotation to \w+ is not finished/);
      const rerun = await run(['rotate-key', '--batch-size', '7', '--reason', 'yearly rotation'], { IGNY8_SECRET_KEY: KEY_A, IGNY8_NEW_SECRET_KEY: KEY_B });
      expect(rerun.code).toBe(0);
      // Both runs are recorded: the killed one never finished, the second says why it ran.
      const runs = await withTestDatabase(fx.t, (db) =>
        all<{ reason: string | null; finished: boolean; ran_by: string }>(
          db.knex,
          `select reason, finished_at is not null as finished, ran_by from igny8_operation_runs where kind = 'rotate-key' order by started_at`,
        ),
      );
      expect(runs.map((r) => [r.reason, r.finished])).toEqual([[null, false], ['yearly rotation', true]]);
      expect(runs[1].ran_by).not.toBe('');
      expect(rerun.stdout).toMatch(/finished the rotation: \w+ → \w+/);
      const stored = await envelopes();
      expect(new Set(stored.map(({ envelope }) => envelope.kid))).toEqual(new Set([keyFingerprint(keyBuffer(KEY_B))]));
      for (const { envelope } of stored) expect(decryptSecret(envelope, keyBuffer(KEY_B))).toBeTypeOf('string');
      const log = await withTestDatabase(fx.t, (db) => all<{ after: unknown }>(db.knex, `select after from igny8_repair_log where check_id = 'rotate-key'`));
      expect(log.length).toBeGreaterThan(0);
      expect(JSON.stringify(log)).not.toMatch(/"ct"|"iv"/);
      const again = await run(['rotate-key'], { IGNY8_SECRET_KEY: KEY_A, IGNY8_NEW_SECRET_KEY: KEY_B });
      expect(again.stdout).toMatch(/nothing to do: the credentials are already under/);
      const old = await run(['repair', 'plaintext-credentials', '--yes'], { IGNY8_SECRET_KEY: KEY_A });
      expect(old.code).toBe(3);
      expect(old.stderr).toMatch(/not this database's key/);
    }, 120_000);
  },
  { onDisk: true, setup: (t) => (t.kind === 'pglite' ? t.db.close() : Promise.resolve()) },
);

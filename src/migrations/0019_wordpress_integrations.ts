// seed #12: the wp_* columns of sites move into igny8_site_integrations (platform wordpress),
// the app password and API key encrypted with AES-256-GCM under IGNY8_SECRET_KEY:
//   config_json = {"url": wp_url}, credentials_json = {"username", "app_password", "api_key"}.
// Where a site already had a wordpress integration, its values stay and the legacy ones fill
// only what it lacks; where both held a value, the legacy ones are archived (secrets encrypted). Credentials an
// integration already held in plaintext are encrypted in place. Then the columns are dropped.
// What moves and what a secret is are the plaintext-credentials rule's (src/rules), so this
// migration and that rule's repair treat every value alike (an empty string is no secret).
// Encryption happens in Node, so rows go in keyset batches, one statement per batch.
import type { Knex } from 'knex';
import type { Migration, MigrationContext } from '../db/migrations.js';
import { assertDatabaseKey, claimDatabaseKey, loadSecretKey, SECRET_KEY_ENV, SECRET_KEY_FILE_ENV } from '../crypto/index.js';
import { execStatements } from '../db/transaction.js';
import {
  encryptPlaintextSecrets,
  hasPlaintextSecretSql,
  mergeWordpressSql,
  WORDPRESS,
  wordpressSettings,
  type WordPressColumns,
} from '../rules/plaintext-credentials.js';
import { plural, withIndexesRebuilt } from './support/ddl.js';

const NAME = '0019_wordpress_integrations';
const BATCH = 10_000;

const HAS_WP = `(coalesce(wp_url, '') <> '' or coalesce(wp_username, '') <> ''
                 or coalesce(wp_app_password, '') <> '' or coalesce(wp_api_key, '') <> '')`;
const HAS_PLAINTEXT = hasPlaintextSecretSql('credentials_json');

interface SiteRow extends WordPressColumns {
  id: number;
  account_id: number;
}

interface Extent {
  count: number;
  lo: number | null;
  hi: number | null;
}

/** How many rows of `table` match, and the id range they lie in (one scan). */
async function extent(trx: Knex.Transaction, table: string, where: string): Promise<Extent> {
  const row = (await trx.raw(`select count(*) as count, min(id) as lo, max(id) as hi from ${table} where ${where}`)).rows[0];
  return { count: Number(row.count), lo: row.lo === null ? null : Number(row.lo), hi: row.hi === null ? null : Number(row.hi) };
}

/**
 * Hands over the matching rows a range of ids at a time. Each batch is an index range scan;
 * "id > last order by id limit n" with a filter can make the planner scan the whole table
 * for every batch.
 */
async function forEachBatch<T>(
  trx: Knex.Transaction,
  table: string,
  columns: string,
  where: string,
  range: Extent,
  work: (rows: T[]) => Promise<void>,
): Promise<void> {
  if (range.lo === null || range.hi === null) return;
  for (let lo = range.lo; lo <= range.hi; lo += BATCH) {
    const batch = await trx.raw(`select ${columns} from ${table} where id >= ? and id < ? and ${where} order by id`, [lo, lo + BATCH]);
    if (batch.rows.length > 0) await work(batch.rows as T[]);
  }
}

async function moveSiteColumns(trx: Knex.Transaction, key: Buffer, range: Extent) {
  const totals = { inserted: 0, merged: 0, archived: 0 };
  const columns = 'id, account_id, wp_url, wp_username, wp_app_password, wp_api_key';
  await forEachBatch<SiteRow>(trx, 'igny8_sites', columns, HAS_WP, range, async (rows) => {
    const records = rows.map((row) => {
      const { config, credentials } = wordpressSettings(row, key);
      return {
        site_id: row.id,
        account_id: row.account_id,
        config,
        credentials,
        // The secrets archived encrypted, as they moved.
        legacy: {
          wp_url: row.wp_url,
          wp_username: row.wp_username,
          wp_app_password: credentials.app_password ?? row.wp_app_password,
          wp_api_key: credentials.api_key ?? row.wp_api_key,
        },
      };
    });
    // One statement: archive the legacy values an integration already contradicted, merge into
    // existing integrations (their own values win) and insert the others. Every CTE sees the
    // table as it was before the statement, so a row is either merged or inserted.
    const result = await trx.raw(
      `with r as (
         select * from jsonb_to_recordset(?::jsonb) as r(site_id bigint, account_id bigint, config jsonb, credentials jsonb, legacy jsonb)),
       archived as (
         insert into igny8_legacy_values (migration, table_name, row_id, legacy, reason)
         select ?, 'igny8_sites', r.site_id, r.legacy,
                'the site''s wordpress integration already held other values: they were kept, these filled only what it lacked'
           from r join igny8_site_integrations i on i.site_id = r.site_id and i.platform = '${WORDPRESS}'
          where (i.config_json->'url' <> r.config->'url')
             or (i.credentials_json->'username' <> r.credentials->'username')
             or (i.credentials_json->'app_password' is not null and r.credentials->'app_password' is not null)
             or (i.credentials_json->'api_key' is not null and r.credentials->'api_key' is not null)
         returning 1),
       merged as (
         update igny8_site_integrations i
            set ${mergeWordpressSql('r', 'i')}
           from r where i.site_id = r.site_id and i.platform = '${WORDPRESS}'
         returning 1),
       inserted as (
         insert into igny8_site_integrations (account_id, site_id, platform, config_json, credentials_json)
         select account_id, site_id, '${WORDPRESS}', config, credentials from r
          where not exists (select 1 from igny8_site_integrations i where i.site_id = r.site_id and i.platform = '${WORDPRESS}')
          order by site_id
         returning 1)
       select (select count(*) from inserted)::int as inserted, (select count(*) from merged)::int as merged,
              (select count(*) from archived)::int as archived`,
      [JSON.stringify(records), NAME],
    );
    const row = result.rows[0] as typeof totals;
    totals.inserted += row.inserted;
    totals.merged += row.merged;
    totals.archived += row.archived;
  });
  return totals;
}

async function encryptIntegrationPlaintext(trx: Knex.Transaction, key: Buffer, range: Extent): Promise<number> {
  let encrypted = 0;
  type Row = { id: number; credentials_json: Record<string, unknown> };
  await forEachBatch<Row>(trx, 'igny8_site_integrations', 'id, credentials_json', HAS_PLAINTEXT, range, async (rows) => {
    const records = rows.map((row) => ({ id: row.id, credentials: encryptPlaintextSecrets(row.credentials_json, key) }));
    await trx.raw(
      `update igny8_site_integrations i set credentials_json = r.credentials
         from jsonb_to_recordset(?::jsonb) as r(id bigint, credentials jsonb) where i.id = r.id`,
      [JSON.stringify(records)],
    );
    encrypted += rows.length;
  });
  return encrypted;
}

function secretKey(ctx: MigrationContext): Buffer {
  const loaded = loadSecretKey({ kind: ctx.kind, dataDir: ctx.dataDir, env: ctx.env, persist: !ctx.dryRun });
  if (loaded.source === 'throwaway') {
    ctx.note(
      `IGNY8_SECRET_KEY is not set: the real run will generate a key in ${loaded.file} (mode 0600); ` +
        'this dry run encrypted with a throwaway key and wrote no file.',
    );
  }
  if (loaded.source === 'generated') {
    ctx.note(
      `IGNY8_SECRET_KEY was not set: generated a new key in ${loaded.file} (mode 0600). ` +
        'Back it up: without it the WordPress credentials cannot be decrypted.',
    );
  }
  return loaded.key;
}

const migration: Migration = {
  description: 'WordPress credentials moved from sites into integrations, encrypted (seed #12)',
  phase: 'contract',
  locks: [
    { table: 'igny8_sites', mode: 'ACCESS EXCLUSIVE', work: 'scan' },
    { table: 'igny8_site_integrations', mode: 'ACCESS EXCLUSIVE', work: 'write' },
    { table: 'igny8_accounts', mode: 'ROW SHARE' },
    { table: 'igny8_legacy_values', mode: 'ROW EXCLUSIVE', work: 'write' },
    { table: 'igny8_credential_keys', mode: 'ROW EXCLUSIVE', work: 'write' },
  ],
  async preflight({ knex, kind, dataDir, env }) {
    // On a new database the tables come from the baseline, later in the same run: empty.
    const tables = await knex.raw(`select to_regclass('igny8_sites') is not null and to_regclass('igny8_site_integrations') is not null as present`);
    const needed =
      tables.rows[0].present &&
      (
        await knex.raw(
          `select exists(select 1 from igny8_sites where ${HAS_WP})
               or exists(select 1 from igny8_site_integrations where ${HAS_PLAINTEXT}) as needed`,
        )
      ).rows[0].needed;
    // A key given is checked even when unused, so a malformed one is heard of now.
    if (needed || env[SECRET_KEY_ENV] || env[SECRET_KEY_FILE_ENV]) {
      const { key, source } = loadSecretKey({ kind, dataDir, env, persist: false });
      if (source !== 'throwaway') await assertDatabaseKey(knex, key);
    }
  },
  async up(ctx) {
    const { trx, note } = ctx;
    const sites = await extent(trx, 'igny8_sites', HAS_WP);
    const plaintext = await extent(trx, 'igny8_site_integrations', HAS_PLAINTEXT);
    // A key is needed only when there is something to encrypt: a fresh database needs none.
    if (sites.count + plaintext.count > 0) {
      const key = secretKey(ctx);
      await claimDatabaseKey(trx, key);
      // Most rows of the integrations table are written: its plain indexes are rebuilt once.
      const moved = await withIndexesRebuilt(trx, 'igny8_site_integrations', () => moveSiteColumns(trx, key, sites));
      // Merging keeps an integration's own values, so the plaintext rows are still the ones measured.
      const encrypted = await encryptIntegrationPlaintext(trx, key, plaintext);
      note(
        `${plural(sites.count, 'site')}' WordPress settings moved: ${plural(moved.inserted, 'integration')} created, ` +
          `${plural(moved.merged, 'existing integration')} completed (legacy values of ${plural(moved.archived, 'site')} that differed archived); ` +
          `${plural(encrypted, 'integration')} whose credentials were plaintext encrypted`,
      );
    } else {
      note('no WordPress settings on sites and no plaintext credentials: nothing to encrypt');
    }
    await execStatements(trx, [
      `alter table igny8_sites drop column wp_url`,
      `alter table igny8_sites drop column wp_username`,
      `alter table igny8_sites drop column wp_app_password`,
      `alter table igny8_sites drop column wp_api_key`,
    ]);
  },
  irreversible: 'moving the WordPress credentials back into igny8_sites would store them in plaintext again (seed #12)',
};

export default migration;

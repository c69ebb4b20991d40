// seed #12: WordPress app passwords and API keys sat in plaintext on the site row, and some
// integrations keep secrets as plain strings. They belong in the site's integration,
// encrypted (an envelope object, never a string). Samples say that a secret is present and
// never show it.
//
// What a secret is, is written once here, and the WordPress move (migration 0019) takes it
// from this module too: a credentials key whose name matches SECRET_KEY_PATTERN, holding a
// string that is not empty. The check used to skip empty strings while the repair and the
// migration encrypted them: an empty string hides nothing, so neither the rule, the repair
// nor the migration finds or touches one (an integration holding `{"api_key": ""}` is clean).
// Empty wp_* columns are likewise no value: they are not carried into the integration.
//
// Repair: a site's wp_* values move into its wordpress integration (or stay in their
// integration), encrypted with AES-256-GCM under IGNY8_SECRET_KEY. Where the site already has
// a wordpress integration, its own values win (as in the migration that moves the rest). The
// log never holds a plaintext: a site's "before" keeps its secrets encrypted, an
// integration's shows "***". Encryption happens in Node, a batch at a time; each batch is
// written by one statement.
import type { Knex } from 'knex';
import { assertDatabaseKey, claimDatabaseKey, encryptSecret, loadSecretKey, type Envelope } from '../crypto/index.js';
import { DomainRefusal } from '../errors.js';
import { insertLogged, rowImage, tally, updateLogged, writeLogged } from '../repairs/log.js';
import { registerSecret } from '../secrets.js';
import { missingTables, scopeTo, withinIds } from './sql.js';
import type { RepairContext, RepairOptions, Rule, Shape, TableCounts, TargetKey } from './types.js';

const SITES = 'igny8_sites';
const INTEGRATIONS = 'igny8_site_integrations';
export const WORDPRESS = 'wordpress';

/** Credential keys whose values are secrets: a case-insensitive regular expression, in JS and in SQL (`~*`). */
export const SECRET_KEY_PATTERN = 'password|secret|key|token';
const SECRET_KEY_NAME = new RegExp(SECRET_KEY_PATTERN, 'i');

/** True when a credentials entry holds a secret in plaintext: a secret's name, a string, not empty. */
export function isPlaintextSecret(name: string, value: unknown): value is string {
  return SECRET_KEY_NAME.test(name) && typeof value === 'string' && value !== '';
}

/** The same, in SQL, over an entry of jsonb_each() aliased `entry`. */
export function plaintextSecretSql(entry: string): string {
  return `(${entry}.key ~* '${SECRET_KEY_PATTERN}' and jsonb_typeof(${entry}.value) = 'string' and ${entry}.value <> '""')`;
}

/** SQL: the jsonb `credentials` holds a plaintext secret (anything but an object holds none). */
export function hasPlaintextSecretSql(credentials: string): string {
  // jsonb_each() fails on anything but an object, and legacy rows may hold an array or a string.
  return `exists (select 1 from jsonb_each(case when jsonb_typeof(${credentials}) = 'object' then ${credentials} else '{}'::jsonb end) e
                   where ${plaintextSecretSql('e')})`;
}

/** Credentials with every plaintext secret encrypted, the rest as they are. */
export function encryptPlaintextSecrets(credentials: Record<string, unknown>, key: Buffer): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(credentials).map(([name, value]) => {
      if (!isPlaintextSecret(name, value)) return [name, value];
      registerSecret(value);
      return [name, encryptSecret(value, key)];
    }),
  );
}

/** A legacy site's WordPress columns. */
export interface WordPressColumns {
  wp_url: string | null;
  wp_username: string | null;
  wp_app_password: string | null;
  wp_api_key: string | null;
}

export interface WordPressSettings {
  config: { url?: string };
  credentials: { username?: string; app_password?: Envelope; api_key?: Envelope };
}

/**
 * The WordPress move: what a site's wp_* columns become in its wordpress integration.
 * config_json {"url"}, credentials_json {"username", "app_password", "api_key"}, the two
 * secrets encrypted; an empty or NULL column is left out.
 */
export function wordpressSettings(site: WordPressColumns, key: Buffer): WordPressSettings {
  const settings: WordPressSettings = { config: {}, credentials: {} };
  if (site.wp_url) settings.config.url = site.wp_url;
  if (site.wp_username) settings.credentials.username = site.wp_username;
  for (const [column, name] of [
    ['wp_app_password', 'app_password'],
    ['wp_api_key', 'api_key'],
  ] as const) {
    const secret = site[column];
    if (!secret) continue;
    registerSecret(secret);
    settings.credentials[name] = encryptSecret(secret, key);
  }
  return settings;
}

/**
 * The SET list that merges moved settings (`incoming`: columns config, credentials) into an
 * existing integration (`existing`): the integration is the newer source, its own values win.
 */
export function mergeWordpressSql(incoming: string, existing: string): string {
  return `config_json = ${incoming}.config || ${existing}.config_json, credentials_json = ${incoming}.credentials || ${existing}.credentials_json`;
}

/** A repair target: a site (`site:<id>`) or an integration (`integration:<id>`). */
function split(keys: readonly TargetKey[] | undefined): { sites?: number[]; integrations?: number[] } {
  if (keys === undefined) return {};
  const of = (prefix: string) =>
    keys.map(String).filter((key) => key.startsWith(prefix)).map((key) => Number(key.slice(prefix.length)));
  return { sites: of('site:'), integrations: of('integration:') };
}

/** The plaintext columns this shape's sites still have. */
function wpColumns(shape: Shape): string[] {
  return ['wp_app_password', 'wp_api_key'].filter((column) => shape.schema.hasColumn(SITES, column));
}

/** credentials_json with every plaintext secret shown as "***": what the log keeps. */
function maskedCredentials(alias: string): string {
  return `(select coalesce(jsonb_object_agg(e.key, case when ${plaintextSecretSql('e')} then '"***"'::jsonb else e.value end), '{}'::jsonb)
             from jsonb_each(case when jsonb_typeof(${alias}.credentials_json) = 'object' then ${alias}.credentials_json else '{}'::jsonb end) e)`;
}

function integrationImage(alias: string): string {
  return `(to_jsonb(${alias}) || jsonb_build_object('credentials_json', ${maskedCredentials(alias)}))`;
}

/** A site as the log keeps it: "***" where a plaintext secret was, never the secret. */
function siteImage(alias: string): string {
  const masked = (column: string) => `'${column}', case when ${alias}.${column} is null then null else '***' end`;
  return `(${rowImage(SITES, alias)} || jsonb_build_object(${masked('wp_app_password')}, ${masked('wp_api_key')}))`;
}

/** The database's key: refused when it is not the one its credentials are encrypted under. */
async function key(ctx: RepairContext): Promise<Buffer> {
  const loaded = loadSecretKey({ kind: ctx.options.kind, dataDir: ctx.options.dataDir, env: ctx.options.env }).key;
  await claimDatabaseKey(ctx.trx, loaded);
  return loaded;
}

/** Whether a key can be had (a malformed one is bad input and throws at once). */
function keyAvailable(options: RepairOptions): boolean {
  try {
    loadSecretKey({ kind: options.kind, dataDir: options.dataDir, env: options.env, persist: false });
    return true;
  } catch (error) {
    if (error instanceof DomainRefusal) return false;
    throw error;
  }
}

async function moveSiteCredentials(ctx: RepairContext, siteIds: number[], counts: TableCounts): Promise<void> {
  if (siteIds.length === 0) return;
  const { schema } = ctx.shape;
  const found = (
    await ctx.trx.raw(
      `select id, ${schema.accountColumn(SITES)} as account_id, wp_url, wp_username, wp_app_password, wp_api_key
         from ${SITES} where id = any(?::bigint[]) order by id`,
      [siteIds],
    )
  ).rows as Array<WordPressColumns & { id: number; account_id: number }>;
  const secretKey = await key(ctx);
  const moved = found.map((site) => ({ id: site.id, account_id: site.account_id, ...wordpressSettings(site, secretKey) }));
  const payload = JSON.stringify(moved);
  const source = `jsonb_to_recordset(?::jsonb) as m(id bigint, account_id bigint, config jsonb, credentials jsonb)`;
  tally(
    counts,
    INTEGRATIONS,
    await updateLogged(
      ctx,
      INTEGRATIONS,
      // The legacy values an existing integration overrides stay in the log (secrets encrypted).
      mergeWordpressSql('src', 't'),
      `select g.id, m.config, m.credentials from ${source} join ${INTEGRATIONS} g on g.site_id = m.id and g.platform = '${WORDPRESS}'`,
      [payload],
      integrationImage,
    ),
  );
  tally(
    counts,
    INTEGRATIONS,
    await insertLogged(
      ctx,
      INTEGRATIONS,
      `${schema.accountColumn(INTEGRATIONS)}, site_id, platform, config_json, credentials_json`,
      `select m.account_id, m.id, '${WORDPRESS}', m.config, m.credentials from ${source}
        where not exists (select 1 from ${INTEGRATIONS} o where o.site_id = m.id and o.platform = '${WORDPRESS}')`,
      [payload],
      integrationImage,
    ),
  );
  tally(
    counts,
    SITES,
    // The site's "before" keeps its secrets encrypted (the envelopes just made), so the log
    // can restore them with the key and never shows them.
    await writeLogged(
      ctx,
      SITES,
      `update ${SITES} t set wp_url = null, wp_username = null, wp_app_password = null, wp_api_key = null, updated_at = now()
         from (select o.id, ${rowImage(SITES, 'o')} || jsonb_build_object('wp_app_password', m.credentials->'app_password',
                                                                  'wp_api_key', m.credentials->'api_key') as before
                 from ${source} join ${SITES} o on o.id = m.id) src
        where t.id = src.id
        returning t.id, src.before, ${siteImage('t')} as after`,
      [payload],
    ),
  );
}

async function encryptIntegrations(ctx: RepairContext, integrationIds: number[], counts: TableCounts): Promise<void> {
  if (integrationIds.length === 0) return;
  const found = (
    await ctx.trx.raw(`select id, credentials_json from ${INTEGRATIONS} where id = any(?::bigint[]) order by id`, [integrationIds])
  ).rows as Array<{ id: number; credentials_json: Record<string, unknown> }>;
  const secretKey = await key(ctx);
  const updated = found.map((row) => ({ id: row.id, credentials: encryptPlaintextSecrets(row.credentials_json, secretKey) }));
  tally(
    counts,
    INTEGRATIONS,
    await updateLogged(
      ctx,
      INTEGRATIONS,
      'credentials_json = src.credentials',
      `select m.id, m.credentials from jsonb_to_recordset(?::jsonb) as m(id bigint, credentials jsonb)`,
      [JSON.stringify(updated)],
      integrationImage,
    ),
  );
}

export const plaintextCredentials: Rule = {
  id: 'plaintext-credentials',
  severity: 'error',
  scope: 'account',
  title: 'WordPress passwords or API keys stored in plaintext',
  remedy: 'igny8 repair plaintext-credentials: move them into the integration, encrypted (IGNY8_SECRET_KEY)',
  verdict(shape) {
    const missing = missingTables(shape, SITES, shape.schema.accountsTable);
    if (missing) return missing;
    if (wpColumns(shape).length > 0 || shape.schema.hasTable(INTEGRATIONS)) return undefined;
    return { kind: 'not-applicable', reason: `neither ${SITES}.wp_* columns nor ${INTEGRATIONS}` };
  },
  findings(shape, within) {
    const { schema } = shape;
    const accounts = schema.accountsTable;
    const batch = split(within);
    const parts: string[] = [];
    const bindings: Knex.RawBinding[] = [];
    const columns = wpColumns(shape);
    if (columns.length > 0) {
      const siteAccountColumn = schema.accountColumn(SITES);
      const present = (column: string) => (columns.includes(column) ? `coalesce(s.${column}, '') <> ''` : 'false');
      const sites = withinIds('s.id', batch.sites);
      parts.push(`select 'site:' || s.id as key, 'site:' || s.id as target,
                         (select a.slug from ${accounts} a where a.id = s.${siteAccountColumn}) as account, s.id as sort,
                         'site' as source, s.slug as site,
                         array_to_string(array_remove(array[
                           case when ${present('wp_app_password')} then 'wp_app_password' end,
                           case when ${present('wp_api_key')} then 'wp_api_key' end], null), ', ') as fields,
                         '***' as value
                    from ${SITES} s
                   where (${columns.map((column) => present(column)).join(' or ')})${scopeTo(shape, `s.${siteAccountColumn}`)}${sites.sql}`);
      bindings.push(...sites.bindings);
    }
    if (schema.hasTable(INTEGRATIONS)) {
      const integrationAccountColumn = schema.accountColumn(INTEGRATIONS);
      const integrations = withinIds('id', batch.integrations);
      const plaintextKeys = `select e.key from jsonb_each(i.credentials_json) e where ${plaintextSecretSql('e')}`;
      parts.push(`select 'integration:' || i.id as key, 'integration:' || i.id as target,
                         (select a.slug from ${accounts} a where a.id = i.${integrationAccountColumn}) as account, i.id as sort,
                         i.platform as source, s.slug as site, k.fields, '***' as value
                    from (select * from ${INTEGRATIONS}
                           -- only objects with something besides a username can hold a secret
                           where jsonb_typeof(credentials_json) = 'object' and credentials_json - 'username' <> '{}'${integrations.sql}) i
                    join ${SITES} s on s.id = i.site_id
                    cross join lateral (select string_agg(x.key, ', ' order by x.key) as fields from (${plaintextKeys}) x) k
                   where k.fields is not null${scopeTo(shape, `i.${integrationAccountColumn}`)}`);
      bindings.push(...integrations.bindings);
    }
    return { sql: parts.join(' union all '), bindings };
  },
  repair: {
    action: "encrypt the secret (AES-256-GCM, IGNY8_SECRET_KEY) into the site's wordpress integration; clear the plaintext",
    table: () => INTEGRATIONS,
    writesSecrets: 'it moved credentials: the log keeps no plaintext to put back',
    async preflight(knex, options) {
    if (keyAvailable(options)) {
      await assertDatabaseKey(knex, loadSecretKey({ kind: options.kind, dataDir: options.dataDir, env: options.env, persist: false }).key);
    }
  },
  requirements: (options) => [
      { what: 'IGNY8_SECRET_KEY (or IGNY8_SECRET_KEY_FILE)', met: keyAvailable(options), why: 'to encrypt the credentials it moves' },
    ],
    change: (row) => (String(row.key).startsWith('site:') ? 'wp_* → wordpress integration, encrypted' : 'secret strings encrypted in place'),
    async lock(ctx, keys) {
      const { sites = [], integrations = [] } = split(keys);
      if (sites.length > 0) await ctx.trx.raw(`select id from ${SITES} where id = any(?::bigint[]) order by id for update`, [sites]);
      if (integrations.length > 0) {
        await ctx.trx.raw(`select id from ${INTEGRATIONS} where id = any(?::bigint[]) order by id for update`, [integrations]);
      }
    },
    async apply(ctx, keys) {
      const { sites = [], integrations = [] } = split(keys);
      const counts: TableCounts = {};
      await moveSiteCredentials(ctx, sites, counts);
      await encryptIntegrations(ctx, integrations, counts);
      return counts;
    },
  },
};

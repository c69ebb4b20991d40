// seed #12: WordPress app passwords and API keys sit in plaintext on legacy sites, and some
// integrations keep secrets as plain strings. Each moves into the site's wordpress
// integration (or stays in its integration), encrypted with AES-256-GCM under
// IGNY8_SECRET_KEY. Where the site already has a wordpress integration, its own values win
// (as in the migration that moves the rest). The log never holds a plaintext: a site's
// "before" keeps its secrets encrypted, an integration's shows "***".
// Encryption happens in Node, a batch at a time; each batch is written by one statement.
import { encryptSecret, loadSecretKey, type Envelope } from '../crypto/index.js';
import { registerSecret } from '../secrets.js';
import { insertLogged, rowImage, tally, updateLogged, writeLogged } from './log.js';
import { inScope, names, rows } from './shape.js';
import { DomainRefusal } from '../errors.js';
import type { Repair, RepairContext, RepairKey, RepairOptions, TableCounts } from './types.js';

const SITES = 'igny8_sites';
const INTEGRATIONS = 'igny8_site_integrations';
/** Credential keys whose string values are secrets (the audit check uses the same rule). */
const SECRET_KEY_PATTERN = 'password|secret|key|token';

function hasWpColumns(ctx: RepairContext): boolean {
  return ctx.schema.hasColumn(SITES, 'wp_app_password');
}

function split(keys: RepairKey[] | undefined): { sites?: number[]; integrations?: number[] } {
  if (keys === undefined) return {};
  const of = (prefix: string) =>
    keys.map(String).filter((key) => key.startsWith(prefix)).map((key) => Number(key.slice(prefix.length)));
  return { sites: of('site:'), integrations: of('integration:') };
}

function sitesSql(ctx: RepairContext): string {
  const col = names(ctx.schema).acct(SITES);
  return `select s.id from ${SITES} s
           where (coalesce(s.wp_app_password, '') <> '' or coalesce(s.wp_api_key, '') <> '')${inScope(ctx, `s.${col}`)}`;
}

function integrationsSql(ctx: RepairContext): string {
  const col = names(ctx.schema).acct(INTEGRATIONS);
  return `select g.id from ${INTEGRATIONS} g
           where jsonb_typeof(g.credentials_json) = 'object'
             and exists (select 1 from jsonb_each(g.credentials_json) e
                          where e.key ~* '${SECRET_KEY_PATTERN}' and jsonb_typeof(e.value) = 'string')${inScope(ctx, `g.${col}`)}`;
}

/** credentials_json with every secret string shown as "***": what the log keeps as "before". */
function maskedCredentials(alias: string): string {
  return `(select coalesce(jsonb_object_agg(e.key, case when e.key ~* '${SECRET_KEY_PATTERN}' and jsonb_typeof(e.value) = 'string'
                                             then '"***"'::jsonb else e.value end), '{}'::jsonb)
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

function key(ctx: RepairContext): Buffer {
  return loadSecretKey({ kind: ctx.options.kind, dataDir: ctx.options.dataDir, env: ctx.options.env }).key;
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
  const col = names(ctx.schema).acct(SITES);
  const integrationCol = names(ctx.schema).acct(INTEGRATIONS);
  const found = await rows<{
    id: number;
    account_id: number;
    wp_url: string | null;
    wp_username: string | null;
    wp_app_password: string | null;
    wp_api_key: string | null;
  }>(
    ctx,
    `select id, ${col} as account_id, wp_url, wp_username, wp_app_password, wp_api_key
       from ${SITES} where id = any(?::bigint[]) order by id`,
    [siteIds],
  );
  const secretKey = key(ctx);
  const moved = found.map((site) => {
    registerSecret(site.wp_app_password);
    registerSecret(site.wp_api_key);
    const credentials: Record<string, string | Envelope> = {};
    if (site.wp_username) credentials.username = site.wp_username;
    if (site.wp_app_password) credentials.app_password = encryptSecret(site.wp_app_password, secretKey);
    if (site.wp_api_key) credentials.api_key = encryptSecret(site.wp_api_key, secretKey);
    return { id: site.id, account_id: site.account_id, config: site.wp_url ? { url: site.wp_url } : {}, credentials };
  });
  const payload = JSON.stringify(moved);
  const source = `jsonb_to_recordset(?::jsonb) as m(id bigint, account_id bigint, config jsonb, credentials jsonb)`;
  tally(
    counts,
    INTEGRATIONS,
    await updateLogged(
      ctx,
      INTEGRATIONS,
      // The integration is the newer source: its own values win, as in the migration that moves
      // the rest; the legacy values it overrides stay in the log (secrets encrypted).
      'config_json = src.config || t.config_json, credentials_json = src.credentials || t.credentials_json',
      `select g.id, m.config, m.credentials from ${source} join ${INTEGRATIONS} g on g.site_id = m.id and g.platform = 'wordpress'`,
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
      `${integrationCol}, site_id, platform, config_json, credentials_json`,
      `select m.account_id, m.id, 'wordpress', m.config, m.credentials from ${source}
        where not exists (select 1 from ${INTEGRATIONS} o where o.site_id = m.id and o.platform = 'wordpress')`,
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
  const found = await rows<{ id: number; credentials_json: Record<string, unknown> }>(
    ctx,
    `select id, credentials_json from ${INTEGRATIONS} where id = any(?::bigint[]) order by id`,
    [integrationIds],
  );
  const secretKey = key(ctx);
  const pattern = new RegExp(SECRET_KEY_PATTERN, 'i');
  const updated = found.map((row) => {
    const credentials: Record<string, unknown> = { ...row.credentials_json };
    for (const [name, value] of Object.entries(credentials)) {
      if (pattern.test(name) && typeof value === 'string') {
        registerSecret(value);
        credentials[name] = encryptSecret(value, secretKey);
      }
    }
    return { id: row.id, credentials };
  });
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

export const plaintextCredentials: Repair = {
  requirements: (options) => [
    { what: 'IGNY8_SECRET_KEY (or IGNY8_SECRET_KEY_FILE)', met: keyAvailable(options), why: 'to encrypt the credentials it moves' },
  ],
  checkId: 'plaintext-credentials',
  action: "encrypt the secret (AES-256-GCM, IGNY8_SECRET_KEY) into the site's wordpress integration; clear the plaintext",
  table: () => INTEGRATIONS,
  async targets(ctx, keys) {
    const { sites, integrations } = split(keys);
    const found: RepairKey[] = [];
    if (hasWpColumns(ctx) && (sites === undefined || sites.length > 0)) {
      const filter = sites === undefined ? '' : ' and f.id = any(?::bigint[])';
      const result = await rows<{ id: number }>(ctx, `select f.id from (${sitesSql(ctx)}) f where true${filter}`, sites ? [sites] : []);
      found.push(...result.map((row) => `site:${row.id}`));
    }
    if (ctx.schema.hasTable(INTEGRATIONS) && (integrations === undefined || integrations.length > 0)) {
      const filter = integrations === undefined ? '' : ' and f.id = any(?::bigint[])';
      const result = await rows<{ id: number }>(
        ctx,
        `select f.id from (${integrationsSql(ctx)}) f where true${filter}`,
        integrations ? [integrations] : [],
      );
      found.push(...result.map((row) => `integration:${row.id}`));
    }
    return found;
  },
  async examples(ctx, keys) {
    const { sites, integrations } = split(keys);
    const { accounts, acct } = names(ctx.schema);
    const samples = [];
    if (sites && sites.length > 0) {
      const found = await rows<{ id: number; slug: string; account: string }>(
        ctx,
        `select s.id, s.slug, a.slug as account from ${SITES} s join ${accounts} a on a.id = s.${acct(SITES)}
          where s.id = any(?::bigint[]) order by s.id`,
        [sites],
      );
      samples.push(...found.map((row) => ({ key: `site:${row.id}`, account: row.account, site: row.slug, change: 'wp_* → wordpress integration, encrypted' })));
    }
    if (integrations && integrations.length > 0) {
      const found = await rows<{ id: number; platform: string; account: string }>(
        ctx,
        `select g.id, g.platform, a.slug as account from ${INTEGRATIONS} g join ${accounts} a on a.id = g.${acct(INTEGRATIONS)}
          where g.id = any(?::bigint[]) order by g.id`,
        [integrations],
      );
      samples.push(...found.map((row) => ({ key: `integration:${row.id}`, account: row.account, platform: row.platform, change: 'secret strings encrypted in place' })));
    }
    return samples;
  },
  async lock(ctx, keys) {
    const { sites, integrations } = split(keys);
    if (sites && sites.length > 0) await ctx.trx.raw(`select id from ${SITES} where id = any(?::bigint[]) order by id for update`, [sites]);
    if (integrations && integrations.length > 0) {
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
};

// seed #12: WordPress app passwords and API keys sat in plaintext on the site row. They
// belong in the site's integration, encrypted (an envelope object, never a string).
// Samples say that a secret is present and never show it.
import { missingTables, runFindings, scopeTo } from './query.js';
import type { Check } from './types.js';

/** Credential keys whose values are secrets. */
const SECRET_KEY = '(password|secret|key|token)';

export const plaintextCredentials: Check = {
  id: 'plaintext-credentials',
  severity: 'error',
  title: 'WordPress passwords or API keys stored in plaintext',
  remedy: 'igny8 repair plaintext-credentials: move them into the integration, encrypted (IGNY8_SECRET_KEY)',
  repairable: true,
  async run(ctx) {
    const { schema } = ctx;
    const accounts = schema.accountsTable;
    const missing = missingTables(ctx, 'igny8_sites', accounts);
    if (missing) return missing;
    const parts: string[] = [];
    const siteOwner = schema.accountColumn('igny8_sites');
    const wpColumns = ['wp_app_password', 'wp_api_key'].filter((column) => schema.hasColumn('igny8_sites', column));
    if (wpColumns.length > 0) {
      const present = (column: string) => (wpColumns.includes(column) ? `coalesce(s.${column}, '') <> ''` : 'false');
      parts.push(`select 'site:' || s.id as key, (select a.slug from ${accounts} a where a.id = s.${siteOwner}) as account, s.id as sort, 'site' as source, s.slug as site,
                         array_to_string(array_remove(array[
                           case when ${present('wp_app_password')} then 'wp_app_password' end,
                           case when ${present('wp_api_key')} then 'wp_api_key' end], null), ', ') as fields,
                         '***' as value
                    from igny8_sites s
                   where (${wpColumns.map((column) => present(column)).join(' or ')})${scopeTo(ctx, `s.${siteOwner}`)}`);
    }
    if (schema.hasTable('igny8_site_integrations')) {
      const owner = schema.accountColumn('igny8_site_integrations');
      const plaintextKeys = `select e.key from jsonb_each(i.credentials_json) e
                              where e.key ~* '${SECRET_KEY}' and jsonb_typeof(e.value) = 'string' and e.value <> '""'`;
      parts.push(`select 'integration:' || i.id as key, (select a.slug from ${accounts} a where a.id = i.${owner}) as account, i.id as sort, i.platform as source, s.slug as site,
                         k.fields, '***' as value
                    from (select * from igny8_site_integrations
                           -- only objects with something besides a username can hold a secret
                           where jsonb_typeof(credentials_json) = 'object' and credentials_json - 'username' <> '{}') i
                    join igny8_sites s on s.id = i.site_id
                    cross join lateral (select string_agg(x.key, ', ' order by x.key) as fields from (${plaintextKeys}) x) k
                   where k.fields is not null${scopeTo(ctx, `i.${owner}`)}`);
    }
    return runFindings(ctx, { sql: parts.join(' union all ') });
  },
};

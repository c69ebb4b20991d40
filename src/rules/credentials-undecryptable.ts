// One key per database: with a key given, every stored credential must be an envelope under
// that key's fingerprint, and the envelopes must decrypt. Found by SQL: envelopes under
// another key's fingerprint. Found in Node: among a sample of the envelopes that claim this
// key, or no key (an older igny8 wrote none), those that do not decrypt (altered, or under
// another key after all). No repair: `igny8 rotate-key` with the right keys.
import { decryptSecret, isEnvelope, keyFingerprint } from '../crypto/index.js';
import { missingTables, scopeTo } from './sql.js';
import type { Rule, Shape } from './types.js';

const INTEGRATIONS = 'igny8_site_integrations';
/** Rows decrypted per audit: enough to catch a wrong or altered key, bounded at any size. */
const SPOT_CHECK_ROWS = 25;

function envelopesOf(value: unknown, path = ''): Array<{ path: string; envelope: unknown }> {
  if (value === null || typeof value !== 'object') return [];
  if (isEnvelope(value)) return [{ path: path || '(value)', envelope: value }];
  return Object.entries(value).flatMap(([key, inner]) => envelopesOf(inner, path ? `${path}.${key}` : key));
}

function fingerprintOf(shape: Shape): string {
  return keyFingerprint(shape.credentialKey!);
}

export const credentialsUndecryptable: Rule = {
  id: 'credentials-undecryptable',
  severity: 'error',
  // The key is the deployment's: an incremental run assumes the recorded run's key (a key
  // changed since calls for a full audit, docs/audit.md).
  scope: 'account',
  title: 'stored credentials under another key, or that do not decrypt',
  remedy: 'no repair: run `igny8 rotate-key` with the key they are under (IGNY8_SECRET_KEY) and the right one (IGNY8_NEW_SECRET_KEY)',
  verdict(shape) {
    const missing = missingTables(shape, INTEGRATIONS, shape.schema.accountsTable);
    if (missing) return missing;
    if (!shape.credentialKey) return { kind: 'not-applicable', reason: 'no key given: set IGNY8_SECRET_KEY to verify the stored credentials' };
    return undefined;
  },
  findings(shape) {
    const { schema } = shape;
    const accountColumn = schema.accountColumn(INTEGRATIONS);
    return {
      sql: `select 'integration:' || i.id as key, i.id as target, a.slug as account, i.id as sort,
                   i.platform,
                   (select string_agg(distinct e.value->>'kid', ', ')
                      from jsonb_each(i.credentials_json) e
                     where jsonb_typeof(e.value) = 'object' and e.value->>'alg' = 'aes-256-gcm'
                       and e.value->>'kid' <> ?) as under_key
              from ${INTEGRATIONS} i join ${schema.accountsTable} a on a.id = i.${accountColumn}
             where jsonb_typeof(i.credentials_json) = 'object'
               and exists (select 1 from jsonb_each(i.credentials_json) e
                            where jsonb_typeof(e.value) = 'object' and e.value->>'alg' = 'aes-256-gcm'
                              and e.value->>'kid' <> ?)${scopeTo(shape, `i.${accountColumn}`)}`,
      bindings: [fingerprintOf(shape), fingerprintOf(shape)],
    };
  },
  async spotCheck(knex, shape) {
    const fingerprint = fingerprintOf(shape);
    const { schema } = shape;
    const accountColumn = schema.accountColumn(INTEGRATIONS);
    // The newest rows first: a key mix-up is likeliest in what was written last.
    const rows = (
      await knex.raw(
        `select i.id, a.slug as account, i.platform, i.credentials_json as credentials
           from ${INTEGRATIONS} i join ${schema.accountsTable} a on a.id = i.${accountColumn}
          where jsonb_typeof(i.credentials_json) = 'object'
            and exists (select 1 from jsonb_each(i.credentials_json) e
                         where jsonb_typeof(e.value) = 'object' and e.value->>'alg' = 'aes-256-gcm'
                           and coalesce(e.value->>'kid', ?) = ?)${scopeTo(shape, `i.${accountColumn}`)}
          order by i.id desc limit ${SPOT_CHECK_ROWS}`,
        [fingerprint, fingerprint],
      )
    ).rows as Array<{ id: number; account: string; platform: string; credentials: unknown }>;
    return rows.flatMap((row) => {
      const failing = envelopesOf(row.credentials).filter(({ envelope }) => {
        try {
          decryptSecret(envelope, shape.credentialKey!);
          return false;
        } catch {
          return true;
        }
      });
      return failing.length === 0
        ? []
        : [{ key: `integration:${row.id}`, account: row.account, platform: row.platform, under_key: fingerprint, does_not_decrypt: failing.map((f) => f.path).join(', ') }];
    });
  },
};

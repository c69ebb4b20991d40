// seed #10: the granular site access rows. A member of the site's account is granted or
// loses access to one site; the owner's access is never revoked, since every owner has
// access to every site (site-access-missing, which `create-site` and `account
// transfer-ownership` keep true). The account row is locked first, as the member and
// ownership operations lock it, so a revoke cannot race a transfer to the same user.
import type { Knex } from 'knex';
import { DomainRefusal } from '../errors.js';
import { withTransaction } from '../db/transaction.js';
import { findAccountBySlug } from './accounts.js';
import type { SiteAccessInput, SiteAccessListInput } from './inputs.js';
import { resolveSiteId } from './sectors.js';
import { requireTargetSchema } from './target-schema.js';
import { lockAccount, resolveUser, type UserRef } from './users.js';

const ACCESS = 'igny8_site_user_access';

export interface SiteRef {
  id: number;
  slug: string;
  account: { id: number; slug: string };
}

export interface SiteAccessChange {
  site: SiteRef;
  user: { id: number; email: string; role: string };
  /** False when the row was there already (grant) or was not there (revoke). */
  changed: boolean;
}

async function siteOf(trx: Knex.Transaction, input: { site: string; account?: string }): Promise<SiteRef> {
  const siteId = await resolveSiteId(trx, input.site, input.account);
  const [row] = (await trx('igny8_sites').where('id', siteId).select('id', 'slug', 'account_id')) as Array<{
    id: number;
    slug: string;
    account_id: number;
  }>;
  const account = await lockAccount(trx, { id: row.account_id });
  return { id: row.id, slug: row.slug, account: { id: account.id, slug: account.slug } };
}

/** The member `email` names, refused when they belong to another account. */
async function memberOf(trx: Knex.Transaction, site: SiteRef, email: string, field: string): Promise<UserRef> {
  const user = await resolveUser(trx, email, undefined, field);
  if (user.account?.id !== site.account.id) {
    throw new DomainRefusal(`${user.email} is not a member of account "${site.account.slug}", which site "${site.slug}" belongs to`, {
      code: 'not-a-member',
    });
  }
  return user;
}

/** Gives a member access to a site; `input` is parsed already (siteAccessInputSchema). */
export async function grantSiteAccess(knex: Knex, input: SiteAccessInput): Promise<SiteAccessChange> {
  await requireTargetSchema(knex);
  return withTransaction(knex, async (trx) => {
    const site = await siteOf(trx, input);
    const user = await memberOf(trx, site, input.email, 'email');
    if (!user.isActive) throw new DomainRefusal(`${user.email} is deactivated`, { code: 'user-inactive' });
    const by = input.by === undefined ? undefined : await memberOf(trx, site, input.by, 'by');
    const inserted = await trx.raw(
      `insert into ${ACCESS} (account_id, user_id, site_id, granted_by_id) values (?, ?, ?, ?)
       on conflict do nothing returning id`,
      [site.account.id, user.id, site.id, by?.id ?? null],
    );
    return { site, user: { id: user.id, email: user.email, role: user.role }, changed: (inserted.rows as unknown[]).length > 0 };
  });
}

/** Takes a member's access to a site away (never the owner's). */
export async function revokeSiteAccess(knex: Knex, input: SiteAccessInput): Promise<SiteAccessChange> {
  await requireTargetSchema(knex);
  return withTransaction(knex, async (trx) => {
    const site = await siteOf(trx, input);
    const user = await memberOf(trx, site, input.email, 'email');
    if (user.role === 'owner') {
      throw new DomainRefusal(`${user.email} owns account "${site.account.slug}": the owner keeps access to every site`, {
        code: 'owner-access',
      });
    }
    const deleted = (await trx(ACCESS).where({ site_id: site.id, user_id: user.id }).delete().returning('id')) as unknown[];
    return { site, user: { id: user.id, email: user.email, role: user.role }, changed: deleted.length > 0 };
  });
}

export interface SiteAccessRow {
  site: { id: number; slug: string };
  account: string;
  user: { id: number; email: string; role: string; isActive: boolean };
  grantedBy: string | null;
  grantedAt: Date;
}

/** Who has access to a site, or to each site of an account. Reads only. */
export async function listSiteAccess(knex: Knex, input: SiteAccessListInput): Promise<SiteAccessRow[]> {
  await requireTargetSchema(knex);
  const query = knex(`${ACCESS} as x`)
    .join('igny8_sites as s', 's.id', 'x.site_id')
    .join('igny8_accounts as a', 'a.id', 's.account_id')
    .join('igny8_users as u', 'u.id', 'x.user_id')
    .leftJoin('igny8_users as g', 'g.id', 'x.granted_by_id')
    .orderBy([{ column: 's.id' }, { column: 'u.id' }])
    .select(
      's.id as site_id',
      's.slug as site_slug',
      'a.slug as account',
      'u.id as user_id',
      'u.email',
      'u.role',
      'u.is_active',
      'g.email as granted_by',
      'x.granted_at',
    );
  if (input.site !== undefined) query.where('s.id', await resolveSiteId(knex, input.site, input.account));
  else if (input.account !== undefined) query.where('s.account_id', (await findAccountBySlug(knex, input.account)).id);
  const rows = (await query) as Array<Record<string, any>>;
  return rows.map((row) => ({
    site: { id: row.site_id, slug: row.site_slug },
    account: row.account,
    user: { id: row.user_id, email: row.email, role: row.role, isActive: row.is_active },
    grantedBy: row.granted_by,
    grantedAt: row.granted_at,
  }));
}

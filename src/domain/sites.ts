// Site creation (seed test 3). seed #4: the industry is required and must be active.
// seed #10: the creator and the account's owner get access rows. The plan's max_sites holds
// under concurrency: the account row is locked (FOR UPDATE) before the sites are counted,
// so two creators of the last free slot run one after the other.
import type { Knex } from 'knex';
import { DomainRefusal, ValidationError } from '../errors.js';
import { withTransaction } from '../db/transaction.js';
import { assertAccountCanGrow } from './account-gate.js';
import type { CreateSiteInput } from './inputs.js';
import { allowsAnother, siteLimit } from './limits.js';
import { insertWithUniqueSlug } from './slugs.js';
import { requireTargetSchema } from './target-schema.js';
import { plural } from '../render/text.js';

export interface CreatedSite {
  id: number;
  slug: string;
  name: string;
  domain: string;
  account: { id: number; slug: string };
  industry: { id: number; slug: string; name: string };
  /** Users who were granted access: the creator and the owner. */
  access: Array<{ userId: number; email: string; role: string }>;
  /** Sites of the account after this one, and the plan's limit. */
  sites: number;
  maxSites: number;
}

interface LockedAccount {
  id: number;
  slug: string;
  status: string;
  plan_slug: string;
  max_sites: number;
}

interface Member {
  id: number;
  email: string;
  role: string;
  account_id: number;
  is_active: boolean;
}

/** Creates a site; `input` is parsed already (createSiteInputSchema). */
export async function createSite(knex: Knex, input: CreateSiteInput): Promise<CreatedSite> {
  await requireTargetSchema(knex);
  return withTransaction(knex, async (trx) => {
    const [account] = (await trx('igny8_accounts as a')
      .join('igny8_plans as p', 'p.id', 'a.plan_id')
      .where('a.slug', input.account)
      .forUpdate('a')
      .select('a.id', 'a.slug', 'a.status', 'p.slug as plan_slug', 'p.max_sites')) as LockedAccount[];
    if (!account) throw new ValidationError('account', `no account with slug "${input.account}"`);
    await assertAccountCanGrow(trx, account, 'new sites');
    const [industry] = (await trx('igny8_industries').where('slug', input.industry).select('id', 'slug', 'name', 'is_active')) as Array<{
      id: number;
      slug: string;
      name: string;
      is_active: boolean;
    }>;
    if (!industry) throw new ValidationError('industry', `no industry "${input.industry}" (run \`igny8 catalog show\`)`);
    if (!industry.is_active) throw new ValidationError('industry', `industry "${input.industry}" is not active`);

    const owner = (await trx('igny8_users')
      .where({ account_id: account.id, role: 'owner' })
      .orderBy('id')
      .first('id', 'email', 'role', 'account_id', 'is_active')) as Member | undefined;
    const creator = input.by ? await findMember(trx, input.by, account) : owner;
    if (!creator) {
      throw new DomainRefusal(`account "${account.slug}" has no owner: name the creator with --by EMAIL`, {
        code: 'no-owner',
      });
    }

    const [{ count }] = (await trx('igny8_sites').where('account_id', account.id).count({ count: '*' })) as Array<{ count: number }>;
    if (!allowsAnother(count, siteLimit(account.max_sites))) {
      throw new DomainRefusal(
        `site limit reached: plan "${account.plan_slug}" allows ${plural(account.max_sites, 'site')} and account "${account.slug}" has ${count}`,
        { code: 'site-limit' },
      );
    }

    const { row: site } = await insertWithUniqueSlug(trx, {
      source: input.name,
      fallback: 'site',
      maxLength: 255,
      table: 'igny8_sites',
      scope: { account_id: account.id },
      insert: async (t, slug) => {
        const [row] = (await t('igny8_sites')
          .insert({
            account_id: account.id,
            name: input.name,
            slug,
            domain: input.domain,
            description: input.description ?? '',
            industry_id: industry.id,
            is_active: true,
            status: 'active',
          })
          .returning(['id', 'slug', 'name', 'domain'])) as Array<{ id: number; slug: string; name: string; domain: string }>;
        return row;
      },
    });

    // seed #10: access for the creator and the owner (once when they are the same user).
    const granted = [creator, ...(owner && owner.id !== creator.id ? [owner] : [])];
    await trx('igny8_site_user_access').insert(
      granted.map((user) => ({ account_id: account.id, user_id: user.id, site_id: site.id, granted_by_id: creator.id })),
    );
    return {
      ...site,
      account: { id: account.id, slug: account.slug },
      industry: { id: industry.id, slug: industry.slug, name: industry.name },
      access: granted.map((user) => ({ userId: user.id, email: user.email, role: user.role })),
      sites: count + 1,
      maxSites: account.max_sites,
    };
  });
}

async function findMember(trx: Knex.Transaction, email: string, account: LockedAccount): Promise<Member> {
  const [user] = (await trx('igny8_users')
    .whereRaw('lower(email) = lower(?)', [email])
    .select('id', 'email', 'role', 'account_id', 'is_active')) as Member[];
  if (!user) throw new ValidationError('by', `no user with email "${email}"`);
  if (user.account_id !== account.id) {
    throw new DomainRefusal(`${user.email} is not a member of account "${account.slug}"`, { code: 'not-a-member' });
  }
  if (!user.is_active) throw new DomainRefusal(`${user.email} is deactivated`, { code: 'user-inactive' });
  if (user.role === 'viewer') {
    throw new DomainRefusal(`${user.email} is a viewer and cannot create sites`, { code: 'role-cannot-create' });
  }
  return user;
}

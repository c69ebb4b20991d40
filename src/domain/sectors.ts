// Sector creation (seed test 4). The sector's industry sector must belong to the site's
// industry (seed #4), and the site keeps within its plan's sectors-per-site limit (seed #7;
// 0 = unlimited). The site row is locked (FOR UPDATE) before counting, so concurrent
// creators of the last free slot run one after the other.
import type { Knex } from 'knex';
import { DomainRefusal, ValidationError } from '../errors.js';
import { withTransaction } from '../db/transaction.js';
import { findAccountBySlug } from './accounts.js';
import type { CreateSectorInput } from './inputs.js';
import { allowsAnother, effectiveSectorLimit } from './limits.js';
import { assertAccountCanGrow } from './account-gate.js';
import { insertWithUniqueSlug } from './slugs.js';
import { requireTargetSchema } from './target-schema.js';
import { plural } from '../render/text.js';

export interface CreatedSector {
  id: number;
  slug: string;
  name: string;
  site: { id: number; slug: string };
  account: { id: number; slug: string };
  industrySector: { id: number; slug: string; industry: string };
  /** Sectors of the site after this one, and the limit (null = unlimited). */
  sectors: number;
  maxSectorsPerSite: number | null;
}

interface LockedSite {
  id: number;
  slug: string;
  account_id: number;
  industry_id: number;
  account_slug: string;
  account_status: string;
  plan_slug: string;
  max_sectors_per_site: number;
  industry_slug: string;
}

/** The site's id, found by id or by slug (within --account, or unique across accounts). */
export async function resolveSiteId(knex: Knex | Knex.Transaction, site: string, account?: string): Promise<number> {
  const query = knex('igny8_sites as s').join('igny8_accounts as a', 'a.id', 's.account_id').select('s.id', 'a.slug as account');
  if (account !== undefined) {
    const ref = await findAccountBySlug(knex, account);
    query.where('s.account_id', ref.id);
  }
  if (/^[0-9]{1,15}$/.test(site)) {
    const [byId] = (await query.clone().where('s.id', Number(site))) as Array<{ id: number }>;
    if (byId) return byId.id;
  }
  const matches = (await query.clone().where('s.slug', site).orderBy('a.slug').limit(6)) as Array<{ id: number; account: string }>;
  if (matches.length === 1) return matches[0].id;
  if (matches.length === 0) {
    throw new ValidationError('site', `no site "${site}"${account === undefined ? '' : ` in account "${account}"`}`);
  }
  throw new ValidationError('site', `several accounts have a site "${site}": add --account SLUG (one of ${matches.map((m) => m.account).join(', ')})`);
}

/** Adds a sector to a site; `input` is parsed already (createSectorInputSchema). */
export async function createSector(knex: Knex, input: CreateSectorInput): Promise<CreatedSector> {
  await requireTargetSchema(knex);
  return withTransaction(knex, async (trx) => {
    const siteId = await resolveSiteId(trx, input.site, input.account);
    const [site] = (await trx('igny8_sites as s')
      .join('igny8_accounts as a', 'a.id', 's.account_id')
      .join('igny8_plans as p', 'p.id', 'a.plan_id')
      .join('igny8_industries as i', 'i.id', 's.industry_id')
      .where('s.id', siteId)
      .forUpdate('s')
      .select(
        's.id',
        's.slug',
        's.account_id',
        's.industry_id',
        'a.slug as account_slug',
        'a.status as account_status',
        'p.slug as plan_slug',
        'p.max_sectors_per_site',
        'i.slug as industry_slug',
      )) as LockedSite[];
    await assertAccountCanGrow(trx, { id: site.account_id, slug: site.account_slug, status: site.account_status }, 'new sectors');

    const candidates = (await trx('igny8_industry_sectors as x')
      .join('igny8_industries as i', 'i.id', 'x.industry_id')
      .where('x.slug', input.industrySector)
      .select('x.id', 'x.slug', 'x.name', 'x.is_active', 'x.industry_id', 'i.slug as industry')) as Array<{
      id: number;
      slug: string;
      name: string;
      is_active: boolean;
      industry_id: number;
      industry: string;
    }>;
    if (candidates.length === 0) {
      throw new ValidationError('industry-sector', `no industry sector "${input.industrySector}" (run \`igny8 catalog show\`)`);
    }
    const sector = candidates.find((candidate) => candidate.industry_id === site.industry_id);
    if (!sector) {
      throw new DomainRefusal(
        `industry sector "${input.industrySector}" belongs to ${candidates.map((c) => `"${c.industry}"`).join(', ')}, not to the site's industry "${site.industry_slug}"`,
        { code: 'sector-industry-mismatch' },
      );
    }
    if (!sector.is_active) throw new ValidationError('industry-sector', `industry sector "${sector.slug}" is not active`);

    const existing = (await trx('igny8_sectors').where({ site_id: site.id, industry_sector_id: sector.id }).first('slug')) as
      | { slug: string }
      | undefined;
    if (existing) {
      throw new DomainRefusal(`site "${site.slug}" already has the sector "${existing.slug}" for "${sector.slug}"`, {
        code: 'sector-exists',
      });
    }
    const [{ count }] = (await trx('igny8_sectors').where('site_id', site.id).count({ count: '*' })) as Array<{ count: number }>;
    const limit = effectiveSectorLimit(site.max_sectors_per_site);
    if (!allowsAnother(count, limit)) {
      throw new DomainRefusal(
        `sector limit reached: plan "${site.plan_slug}" allows ${plural(limit ?? 0, 'sector')} per site and site "${site.slug}" has ${count}`,
        { code: 'sector-limit' },
      );
    }

    const name = input.name ?? sector.name;
    const { row } = await insertWithUniqueSlug(trx, {
      source: name,
      fallback: 'sector',
      maxLength: 255,
      table: 'igny8_sectors',
      scope: { site_id: site.id },
      insert: async (t, slug) => {
        const [inserted] = (await t('igny8_sectors')
          .insert({ account_id: site.account_id, site_id: site.id, industry_sector_id: sector.id, name, slug, is_active: true })
          .returning(['id', 'slug', 'name'])) as Array<{ id: number; slug: string; name: string }>;
        return inserted;
      },
    });
    return {
      ...row,
      site: { id: site.id, slug: site.slug },
      account: { id: site.account_id, slug: site.account_slug },
      industrySector: { id: sector.id, slug: sector.slug, industry: sector.industry },
      sectors: count + 1,
      maxSectorsPerSite: limit,
    };
  });
}

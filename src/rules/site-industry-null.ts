// seed #4: a site without an industry can never get a sector. The target makes
// sites.industry_id not null; migration 0011 refuses (gated by this rule) while NULLs remain.
//
// Repair: a site whose sectors all belong to one industry gets that industry; any other only
// with --default-industry SLUG. Never a silent default: without the flag those sites are
// reported and left.
import { updateLogged } from '../repairs/log.js';
import { enforcedByNotNull, missingTables, scopeTo, withinIds } from './sql.js';
import type { Rule } from './types.js';

const SITES = 'igny8_sites';

/** The one industry a site's sectors imply, or null when they imply none or several. */
function inferredIndustry(site: string): string {
  return `(select case when count(distinct i.industry_id) = 1 then min(i.industry_id) end
             from igny8_sectors sc join igny8_industry_sectors i on i.id = sc.industry_sector_id
            where sc.site_id = ${site}.id)`;
}

export const siteIndustryNull: Rule = {
  id: 'site-industry-null',
  severity: 'error',
  scope: 'account',
  title: 'sites without an industry',
  remedy: "igny8 repair site-industry-null: infer from the site's sectors when unambiguous, else --default-industry SLUG",
  verdict(shape) {
    return missingTables(shape, SITES, 'igny8_sectors', shape.schema.accountsTable) ?? enforcedByNotNull(shape, SITES, 'industry_id');
  },
  findings(shape, within) {
    const { schema } = shape;
    const accountColumn = schema.accountColumn(SITES);
    const batch = withinIds('s.id', within);
    return {
      sql: `select 'site:' || s.id as key, s.id as target, a.slug as account, s.id as sort,
                   s.slug as site, s.name,
                   (select count(*) from igny8_sectors se where se.site_id = s.id) as sectors,
                   inferred.slug as inferred_industry, inferred.id as _inferred_id
              from ${SITES} s join ${schema.accountsTable} a on a.id = s.${accountColumn}
              left join igny8_industries inferred on inferred.id = ${inferredIndustry('s')}
             where s.industry_id is null${scopeTo(shape, `s.${accountColumn}`)}${batch.sql}`,
      bindings: batch.bindings,
    };
  },
  repair: {
    action: "set the industry its sectors imply when there is exactly one; otherwise --default-industry SLUG's",
    table: () => SITES,
    requirements: (options) => [
      {
        what: '--default-industry SLUG',
        met: options.defaultIndustry !== undefined,
        why: 'for sites whose sectors imply no single industry; without it they are left and reported',
        optional: true,
      },
    ],
    fixable: (options) =>
      options.defaultIndustry === undefined
        ? {
            where: 'f._inferred_id is not null',
            leftOver:
              'sites whose sectors imply no single industry: rerun with --default-industry SLUG to set one (`igny8 catalog show` lists them)',
          }
        : undefined,
    change: (row, options) =>
      row.inferred_industry
        ? `industry → ${String(row.inferred_industry)} (from its sectors)`
        : `industry → ${String(options.defaultIndustry)} (--default-industry)`,
    async apply(ctx, keys) {
      const written = await updateLogged(
        ctx,
        SITES,
        'industry_id = src.industry_id, updated_at = now()',
        `select s.id, coalesce(${inferredIndustry('s')}, (select id from igny8_industries where slug = ?)) as industry_id
           from ${SITES} s where s.id = any(?::bigint[]) and s.industry_id is null`,
        [ctx.options.defaultIndustry ?? null, keys],
      );
      return { [SITES]: written };
    },
  },
};

// seed #4: a site needs an industry before sectors can hang off it, and the target makes
// industry_id NOT NULL. A site whose sectors all belong to one industry gets that industry;
// any other only with --default-industry SLUG. Never a silent default: without the flag the
// remaining sites are reported and left.
import { updateLogged } from './log.js';
import { enforcedNotNull, ids, inScope, names, rows, within } from './shape.js';
import type { Repair, RepairContext, RepairKey } from './types.js';

const SITES = 'igny8_sites';

/** Every site without an industry, with the industry its sectors imply (null when ambiguous). */
function candidatesSql(ctx: RepairContext): string {
  const col = names(ctx.schema).acct(SITES);
  return `select s.id,
                 (select case when count(distinct i.industry_id) = 1 then min(i.industry_id) end
                    from igny8_sectors sc join igny8_industry_sectors i on i.id = sc.industry_sector_id
                   where sc.site_id = s.id) as inferred
            from ${SITES} s where s.industry_id is null${inScope(ctx, `s.${col}`)}`;
}

/** The industry each site gets: inferred, else the --default-industry (bound as a slug). */
function choiceSql(ctx: RepairContext): { sql: string; bindings: unknown[] } {
  const fallback = ctx.options.defaultIndustry;
  return fallback === undefined
    ? { sql: `select c.id, c.inferred as industry_id from (${candidatesSql(ctx)}) c where c.inferred is not null`, bindings: [] }
    : {
        sql: `select c.id, coalesce(c.inferred, (select id from igny8_industries where slug = ?)) as industry_id
                from (${candidatesSql(ctx)}) c`,
        bindings: [fallback],
      };
}

export const siteIndustryNull: Repair = {
  checkId: 'site-industry-null',
  requirements: (options) => [
    {
      what: '--default-industry SLUG',
      met: options.defaultIndustry !== undefined,
      why: 'for sites whose sectors imply no single industry; without it they are left and reported',
      optional: true,
    },
  ],
  action: "set the industry its sectors imply when there is exactly one; otherwise --default-industry SLUG's",
  table: () => SITES,
  notApplicable: (schema) =>
    enforcedNotNull(schema, SITES, 'industry_id') ? 'enforced by schema: every site has an industry' : undefined,
  async targets(ctx, keys) {
    const choice = choiceSql(ctx);
    const filter = within('x.id', keys);
    return ids(
      ctx,
      `select x.id from (${choice.sql}) x where x.industry_id is not null${filter.sql} order by x.id`,
      [...choice.bindings, ...filter.bindings],
    );
  },
  async examples(ctx, keys) {
    const { accounts, acct } = names(ctx.schema);
    const choice = choiceSql(ctx);
    const found = await rows<{ id: number; slug: string; account: string; industry: string; inferred: boolean }>(
      ctx,
      `select s.id, s.slug, a.slug as account, i.slug as industry, c.inferred is not null as inferred
         from (${choice.sql}) x join ${SITES} s on s.id = x.id join ${accounts} a on a.id = s.${acct(SITES)}
         join igny8_industries i on i.id = x.industry_id
         join (${candidatesSql(ctx)}) c on c.id = x.id
        where x.id = any(?::bigint[]) order by s.id`,
      [...choice.bindings, keys],
    );
    return found.map((row) => ({
      key: `site:${row.id}`,
      account: row.account,
      site: row.slug,
      change: `industry → ${row.industry} (${row.inferred ? 'from its sectors' : '--default-industry'})`,
    }));
  },
  async leftOver(ctx) {
    if (ctx.options.defaultIndustry !== undefined) return undefined;
    const [row] = await rows<{ count: number }>(
      ctx,
      `select count(*)::int as count from (${candidatesSql(ctx)}) c where c.inferred is null`,
    );
    return row.count > 0
      ? {
          count: row.count,
          reason: 'sites whose sectors imply no single industry: rerun with --default-industry SLUG to set one (`igny8 catalog show` lists them)',
        }
      : undefined;
  },
  async apply(ctx, keys: RepairKey[]) {
    const choice = choiceSql(ctx);
    const written = await updateLogged(
      ctx,
      SITES,
      'industry_id = src.industry_id, updated_at = now()',
      `select x.id, x.industry_id from (${choice.sql}) x where x.id = any(?::bigint[]) and x.industry_id is not null`,
      [...choice.bindings, keys],
    );
    return { [SITES]: written };
  },
};

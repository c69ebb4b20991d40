// seed #4: a site without an industry can never get a sector. The repair infers the industry
// from the site's sectors or takes --default-industry; the migration never picks one silently.
import type { Migration } from '../db/migrations.js';
import { siteIndustryNull } from '../rules/site-industry-null.js';
import { setNotNull } from './support/ddl.js';
import { requireRuleClean } from './support/preconditions.js';

const migration: Migration = {
  description: 'sites: industry_id not null (seed #4)',
  phase: 'contract',
  locks: [
    { table: 'igny8_sites', mode: 'ACCESS EXCLUSIVE', work: 'scan' },
  ],
  async up({ trx, note }) {
    await requireRuleClean(trx, siteIndustryNull, {
      guarantee: 'sites.industry_id not null',
      what: 'sites without an industry',
      one: 'site without an industry',
      repairArgs: '[--default-industry SLUG]',
      repairHint:
        "it infers each site's industry from its sectors when unambiguous; the others need --default-industry SLUG",
    });
    await setNotNull(trx, 'igny8_sites', 'industry_id');
    note('every site has an industry');
  },
  async down({ trx }) {
    await trx.raw(`alter table igny8_sites alter column industry_id drop not null`);
  },
};

export default migration;

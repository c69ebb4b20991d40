import type { Knex } from 'knex';
import { expect, it } from 'vitest';
import { payInvoice } from '../../src/domain/payments.js';
import { registerAccount } from '../../src/domain/register.js';
import { createSector } from '../../src/domain/sectors.js';
import { createSite } from '../../src/domain/sites.js';
import { DomainRefusal, ValidationError } from '../../src/errors.js';
import { createTestDatabase, describeEachDatabase, describeOnServer } from '../helpers/databases.js';
import { migratedServerPool } from '../helpers/templates.js';
import { countRows, FAST_SCRYPT, uniqueEmail, uniqueName } from '../helpers/domain-fixtures.js';

async function newAccount(knex: Knex, plan: string) {
  const r = await registerAccount(
    knex,
    { email: uniqueEmail('site'), password: 'Test123!', accountName: uniqueName('Sites'), plan },
    { scryptCost: FAST_SCRYPT },
  );
  // A paid signup grows once its first invoice is paid.
  if (r.invoice) await payInvoice(knex, { number: r.invoice.number });
  return { id: r.account.id, slug: r.account.slug, ownerId: r.user.id, ownerEmail: r.user.email };
}

async function addMember(knex: Knex, accountId: number, role: string): Promise<{ id: number; email: string }> {
  const email = uniqueEmail(role);
  const [user] = await knex('igny8_users')
    .insert({ email, password: 'scrypt$4$8$1$AAAA$AAAA', role, account_id: accountId })
    .returning(['id', 'email']);
  return user as { id: number; email: string };
}

describeEachDatabase('sites and sectors', (fx) => {
  it('creates a site with its industry; creator and owner get access', async () => {
    const account = await newAccount(fx.db.knex, 'growth');
    const editor = await addMember(fx.db.knex, account.id, 'editor');
    const site = await createSite(fx.db.knex, {
      account: account.slug,
      name: 'Test Site',
      domain: 'https://test.com',
      industry: 'technology',
      by: editor.email.toUpperCase(),
    });
    expect(site).toMatchObject({ slug: 'test-site', domain: 'https://test.com', sites: 1, maxSites: 3 });
    const [row] = await fx.db.knex('igny8_sites').where('id', site.id);
    const [technology] = await fx.db.knex('igny8_industries').where('slug', 'technology');
    expect(row).toMatchObject({ account_id: account.id, industry_id: technology.id, status: 'active' });
    const access = await fx.db.knex('igny8_site_user_access').where('site_id', site.id).orderBy('user_id');
    expect(access.map((a) => [a.user_id, a.granted_by_id, a.account_id])).toEqual([
      [account.ownerId, editor.id, account.id],
      [editor.id, editor.id, account.id],
    ]);
    // The owner creating a site gets one access row, not two.
    const second = await createSite(fx.db.knex, { account: account.slug, name: 'Test Site', domain: 'test.com', industry: 'healthcare' });
    expect(second.slug).toBe('test-site-2');
    expect(await fx.db.knex('igny8_site_user_access').where('site_id', second.id)).toHaveLength(1);
  });

  it('enforces max_sites, the industry, and membership, writing nothing on refusal', async () => {
    const account = await newAccount(fx.db.knex, 'free');
    await createSite(fx.db.knex, { account: account.slug, name: 'Only', domain: 'only.example.com', industry: 'technology' });
    const before = await countRows(fx.db.knex);
    await expect(
      createSite(fx.db.knex, { account: account.slug, name: 'Second', domain: 'b.example.com', industry: 'technology' }),
    ).rejects.toThrow(/site limit reached: plan "free" allows 1 site and account ".*" has 1/);
    await expect(
      createSite(fx.db.knex, { account: account.slug, name: 'X', domain: 'x.example.com', industry: 'no-such-industry' }),
    ).rejects.toThrow(ValidationError);
    await expect(
      createSite(fx.db.knex, { account: 'no-such-account', name: 'X', domain: 'x.example.com', industry: 'technology' }),
    ).rejects.toThrow(/account: no account with slug/);
    const other = await newAccount(fx.db.knex, 'growth');
    const beforeOther = await countRows(fx.db.knex);
    await expect(
      createSite(fx.db.knex, { account: other.slug, name: 'X', domain: 'x.example.com', industry: 'technology', by: account.ownerEmail }),
    ).rejects.toThrow(/is not a member of account/);
    await expect(
      createSite(fx.db.knex, { account: other.slug, name: 'X', domain: 'x.example.com', industry: 'technology', by: 'nobody@example.com' }),
    ).rejects.toThrow(/by: no user with email/);
    expect(await countRows(fx.db.knex)).toEqual(beforeOther);
    expect(before.igny8_sites).toBe(beforeOther.igny8_sites);
  });

  it('refuses viewers, deactivated users and closed accounts', async () => {
    const account = await newAccount(fx.db.knex, 'scale');
    const viewer = await addMember(fx.db.knex, account.id, 'viewer');
    const gone = await addMember(fx.db.knex, account.id, 'editor');
    await fx.db.knex('igny8_users').where('id', gone.id).update({ is_active: false });
    const site = (by: string) => createSite(fx.db.knex, { account: account.slug, name: 'X', domain: 'x.example.com', industry: 'technology', by });
    await expect(site(viewer.email)).rejects.toThrow(/is a viewer and cannot create sites/);
    await expect(site(gone.email)).rejects.toThrow(/is deactivated/);
    await fx.db.knex('igny8_accounts').where('id', account.id).update({ status: 'suspended' });
    await expect(site(account.ownerEmail)).rejects.toThrow(/is suspended: no new sites/);
    const [{ count }] = await fx.db.knex('igny8_sites').where('account_id', account.id).count({ count: '*' });
    expect(count).toBe(0);
  });

  it('refuses an inactive industry', async () => {
    const account = await newAccount(fx.db.knex, 'growth');
    await fx.db.knex('igny8_industries').insert({ name: 'Retired', slug: 'retired-industry', is_active: false });
    await expect(
      createSite(fx.db.knex, { account: account.slug, name: 'X', domain: 'x.example.com', industry: 'retired-industry' }),
    ).rejects.toThrow(/industry: industry "retired-industry" is not active/);
  });

  it("sectors: from the site's industry only, within the plan's limit", async () => {
    const account = await newAccount(fx.db.knex, 'starter'); // 3 sectors per site
    const site = await createSite(fx.db.knex, { account: account.slug, name: 'Blog', domain: 'blog.example.com', industry: 'technology' });
    const sector = await createSector(fx.db.knex, { site: String(site.id), industrySector: 'web-development', name: 'Web Development' });
    expect(sector).toMatchObject({ slug: 'web-development', sectors: 1, maxSectorsPerSite: 3 });
    const [row] = await fx.db.knex('igny8_sectors').where('id', sector.id);
    expect(row).toMatchObject({ account_id: account.id, site_id: site.id, name: 'Web Development' });

    const before = await countRows(fx.db.knex);
    await expect(createSector(fx.db.knex, { site: String(site.id), industrySector: 'dental' })).rejects.toThrow(
      /industry sector "dental" belongs to "healthcare", not to the site's industry "technology"/,
    );
    await expect(createSector(fx.db.knex, { site: String(site.id), industrySector: 'web-development' })).rejects.toThrow(
      /already has the sector/,
    );
    await expect(createSector(fx.db.knex, { site: String(site.id), industrySector: 'no-such-sector' })).rejects.toThrow(
      ValidationError,
    );
    expect(await countRows(fx.db.knex)).toEqual(before);

    await createSector(fx.db.knex, { site: site.slug, account: account.slug, industrySector: 'saas' });
    await createSector(fx.db.knex, { site: String(site.id), industrySector: 'mobile-apps' });
    await expect(createSector(fx.db.knex, { site: String(site.id), industrySector: 'cybersecurity' })).rejects.toThrow(
      /sector limit reached: plan "starter" allows 3 sectors per site and site "blog" has 3/,
    );
  });

  it('0 sectors per site means unlimited', async () => {
    const account = await newAccount(fx.db.knex, 'scale');
    const site = await createSite(fx.db.knex, { account: account.slug, name: 'Big', domain: 'big.example.com', industry: 'technology' });
    for (const slug of ['web-development', 'mobile-apps', 'saas', 'cybersecurity', 'cloud-computing', 'artificial-intelligence']) {
      await createSector(fx.db.knex, { site: String(site.id), industrySector: slug });
    }
    const [{ count }] = await fx.db.knex('igny8_sectors').where('site_id', site.id).count({ count: '*' });
    expect(count).toBe(6);
  });

  it('a site slug used by several accounts needs --account', async () => {
    const a = await newAccount(fx.db.knex, 'growth');
    const b = await newAccount(fx.db.knex, 'growth');
    const name = uniqueName('Shared');
    const siteA = await createSite(fx.db.knex, { account: a.slug, name, domain: 'a.example.com', industry: 'finance' });
    await createSite(fx.db.knex, { account: b.slug, name, domain: 'b.example.com', industry: 'finance' });
    await expect(createSector(fx.db.knex, { site: siteA.slug, industrySector: 'banking' })).rejects.toThrow(
      /site: several accounts have a site ".*": add --account SLUG/,
    );
    const sector = await createSector(fx.db.knex, { site: siteA.slug, account: a.slug, industrySector: 'banking' });
    expect(sector.site.id).toBe(siteA.id);
    await expect(createSector(fx.db.knex, { site: 'no-such-site', industrySector: 'banking' })).rejects.toThrow(/site: no site/);
  });

  it('refuses on a database that is not migrated', async () => {
    const bare = await createTestDatabase(fx.kind);
    try {
      await expect(
        createSite(bare.db.knex, { account: 'a', name: 'b', domain: 'c.com', industry: 'technology' }),
      ).rejects.toThrow(/run `igny8 migrate`/);
    } finally {
      await bare.drop();
    }
  });
}, { migrated: true });

describeOnServer('sites and sectors under concurrency [postgres]', () => {
  const server = migratedServerPool(12);

  it('concurrent create-site at the plan limit: exactly one succeeds', async () => {
    const account = await newAccount(server.db.knex, 'free'); // max_sites 1
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        createSite(server.db.knex, { account: account.slug, name: 'Same Name', domain: `s${i}.example.com`, industry: 'technology' }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')) {
      expect(r.reason).toBeInstanceOf(DomainRefusal);
      expect(r.reason.message).toMatch(/site limit reached/);
    }
    const [{ count }] = await server.db.knex('igny8_sites').where('account_id', account.id).count({ count: '*' });
    expect(count).toBe(1);
  });

  it('concurrent create-site below a larger limit: slugs stay unique', async () => {
    const account = await newAccount(server.db.knex, 'scale'); // max_sites 5
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        createSite(server.db.knex, { account: account.slug, name: 'Same Name', domain: `s${i}.example.com`, industry: 'technology' }),
      ),
    );
    const created = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ slug: string }>).value.slug);
    expect(created).toHaveLength(5);
    expect(new Set(created).size).toBe(5);
    expect(created).toContain('same-name');
  });

  it('concurrent create-sector at the limit: the count never passes it', async () => {
    const account = await newAccount(server.db.knex, 'starter'); // 3 per site
    const site = await createSite(server.db.knex, { account: account.slug, name: 'Race', domain: 'race.example.com', industry: 'healthcare' });
    const sectors = ['hospitals-clinics', 'dental', 'mental-health', 'pharmacy', 'telemedicine'];
    const results = await Promise.allSettled(sectors.map((slug) => createSector(server.db.knex, { site: String(site.id), industrySector: slug })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    const [{ count }] = await server.db.knex('igny8_sectors').where('site_id', site.id).count({ count: '*' });
    expect(count).toBe(3);
  });
});

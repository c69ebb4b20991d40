-- The least work the audit's rules need on the legacy shape: one join or aggregation per rule,
-- each the cheapest single query that answers it (no samples, no slugs, no suppressions).
-- Not part of `npm run bench`: run by hand against a database it seeded and kept, e.g.
--   npm run bench -- --accounts 1000000 --only seed,audit --keep
--   PGOPTIONS='-c enable_hashagg=off' psql -d igny8_bench_legacy_... -f bench/lower-bound.sql
-- and take, per query, the best of the planner's choices (as configured, enable_hashagg=off,
-- random_page_cost=1.1, no parallel workers). bench/RESULTS.md keeps the figures.
set jit = off;
set work_mem = '64MB';
\timing on

\echo users per account (account-without-owner, multiple-owners, site-limit-exceeded)
select count(*) from (select tenant_id, count(*) filter (where role = 'owner') as owners, count(*) as users
                        from igny8_users group by tenant_id) x where owners <> 1 or users > 1;
\echo accounts without an owner (account-without-owner)
select count(*) from igny8_tenants a
 where not exists (select 1 from igny8_users u where u.tenant_id = a.id and u.role = 'owner');
\echo sites per account (site-limit-exceeded)
select count(*) from (select tenant_id from igny8_sites group by tenant_id having count(*) > 1) x;
\echo sectors per site (sector-limit-exceeded)
select count(*) from (select site_id from igny8_sectors group by site_id having count(*) > 1) x;
\echo sectors with their sites (sector-industry-mismatch, cross-tenant-reference)
select count(*) from igny8_sectors se join igny8_sites si on si.id = se.site_id
  join igny8_industry_sectors i on i.id = se.industry_sector_id
 where i.industry_id <> si.industry_id or se.tenant_id <> si.tenant_id;
\echo access rows with their users and sites (cross-tenant-reference)
select count(*) from igny8_site_user_access r join igny8_users u on u.id = r.user_id
  join igny8_sites s on s.id = r.site_id where u.tenant_id <> s.tenant_id;
\echo integrations with their sites (cross-tenant-reference)
select count(*) from igny8_site_integrations r join igny8_sites s on s.id = r.site_id where r.tenant_id <> s.tenant_id;
\echo invoices with their subscriptions (cross-tenant-reference)
select count(*) from igny8_invoices r join igny8_subscriptions s on s.id = r.subscription_id where r.tenant_id <> s.tenant_id;
\echo the ledger walked per account (ledger-chain-broken)
select count(*) from (select balance_after - coalesce(lag(balance_after) over (partition by tenant_id order by id), 0) - amount as gap
                        from igny8_credit_transactions) w where gap <> 0;
\echo the ledger summed per account, against the balance (credit-balance-drift, signup-credit-shortfall)
select count(*) from igny8_tenants a
  left join (select tenant_id, sum(amount) as total from igny8_credit_transactions group by tenant_id) l on l.tenant_id = a.id
 where a.credits <> coalesce(l.total, 0);
\echo accounts with their subscription and default payment method (payment-method-drift)
select count(*) from igny8_tenants a left join igny8_subscriptions s on s.tenant_id = a.id
  left join igny8_account_payment_methods d on d.tenant_id = a.id and d.is_default
 where d.type is distinct from a.payment_method or s.payment_method is distinct from a.payment_method;
\echo sites whose owner has no access row (site-access-missing)
select count(*) from igny8_sites s join igny8_users u on u.tenant_id = s.tenant_id and u.role = 'owner'
 where not exists (select 1 from igny8_site_user_access x where x.site_id = s.id and x.user_id = u.id);

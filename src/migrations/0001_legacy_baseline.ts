// The legacy schema exactly as the old Django code created it, defects included: it is the
// starting point every later migration repairs. An existing production database in this
// shape is adopted (`igny8 migrate adopt`) rather than created.
import type { Migration } from '../db/migrations.js';
import { execStatements } from '../db/transaction.js';
import { LEGACY_FOREIGN_KEY_INDEXES } from '../schema/legacy.js';

const CREATE = [
  `create table igny8_plans (
    id bigserial primary key,
    name varchar(255) not null,
    slug varchar(50) not null unique,
    price numeric(10,2) not null default 0,
    billing_cycle varchar(20) not null default 'monthly',
    included_credits integer not null default 0,
    credits_per_month integer not null default 0,
    max_sites integer not null default 1,
    max_users integer not null default 1,
    max_industries integer null,
    is_active boolean not null default true,
    features jsonb not null default '[]',
    created_at timestamptz not null default now()
  )`,
  `create table igny8_tenants (
    id bigserial primary key,
    name varchar(255) not null,
    slug varchar(255) not null unique,
    owner_id bigint null,
    plan_id bigint not null references igny8_plans(id),
    credits integer not null default 0,
    status varchar(20) not null default 'trial',
    payment_method varchar(30) not null default 'stripe',
    billing_email varchar(254) null,
    billing_address_line1 varchar(255) null,
    billing_city varchar(100) null,
    billing_country varchar(2) null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,
  `create table igny8_users (
    id bigserial primary key,
    email varchar(254) not null unique,
    password varchar(128) not null,
    first_name varchar(150) not null default '',
    last_name varchar(150) not null default '',
    role varchar(20) not null default 'owner',
    tenant_id bigint null references igny8_tenants(id),
    is_active boolean not null default true,
    date_joined timestamptz not null default now(),
    last_login timestamptz null
  )`,
  // The circular reference (seed #3): the account names its owner, the owner its account.
  `alter table igny8_tenants add constraint igny8_tenants_owner_id_fkey
    foreign key (owner_id) references igny8_users(id) deferrable initially deferred`,
  `create table igny8_subscriptions (
    id bigserial primary key,
    tenant_id bigint not null unique references igny8_tenants(id),
    stripe_subscription_id varchar(255) null,
    payment_method varchar(30) not null default 'stripe',
    external_payment_id varchar(255) null,
    status varchar(20) not null,
    current_period_start timestamptz not null,
    current_period_end timestamptz not null,
    cancel_at_period_end boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,
  `create table igny8_account_payment_methods (
    id bigserial primary key,
    tenant_id bigint not null references igny8_tenants(id),
    type varchar(30) not null,
    display_name varchar(100) not null default '',
    is_default boolean not null default false,
    is_enabled boolean not null default true,
    is_verified boolean not null default false,
    instructions text not null default '',
    metadata jsonb not null default '{}',
    created_at timestamptz not null default now()
  )`,
  `create table igny8_invoices (
    id bigserial primary key,
    tenant_id bigint not null references igny8_tenants(id),
    subscription_id bigint null references igny8_subscriptions(id),
    invoice_number varchar(50) not null unique,
    status varchar(20) not null,
    subtotal numeric(10,2) not null default 0,
    tax numeric(10,2) not null default 0,
    total numeric(10,2) not null default 0,
    currency varchar(3) not null default 'USD',
    invoice_date date not null,
    due_date date not null,
    paid_at timestamptz null,
    billing_email varchar(254) null,
    line_items jsonb not null default '[]',
    metadata jsonb not null default '{}',
    created_at timestamptz not null default now()
  )`,
  `create table igny8_credit_transactions (
    id bigserial primary key,
    tenant_id bigint not null references igny8_tenants(id),
    transaction_type varchar(20) not null,
    amount integer not null,
    balance_after integer not null,
    description varchar(255) not null default '',
    metadata jsonb not null default '{}',
    created_at timestamptz not null default now()
  )`,
  `create table igny8_industries (
    id bigserial primary key,
    name varchar(255) not null,
    slug varchar(50) not null unique,
    description text not null default '',
    is_active boolean not null default true,
    created_at timestamptz not null default now()
  )`,
  `create table igny8_industry_sectors (
    id bigserial primary key,
    industry_id bigint not null references igny8_industries(id),
    name varchar(255) not null,
    slug varchar(50) not null,
    description text not null default '',
    is_active boolean not null default true,
    unique (industry_id, slug)
  )`,
  `create table igny8_sites (
    id bigserial primary key,
    tenant_id bigint not null references igny8_tenants(id),
    name varchar(255) not null,
    slug varchar(255) not null,
    domain varchar(200) null,
    description text not null default '',
    industry_id bigint null references igny8_industries(id),
    is_active boolean not null default true,
    status varchar(20) not null default 'active',
    wp_url varchar(200) null,
    wp_username varchar(255) null,
    wp_app_password varchar(255) null,
    wp_api_key varchar(255) null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, slug)
  )`,
  `create table igny8_sectors (
    id bigserial primary key,
    tenant_id bigint not null references igny8_tenants(id),
    site_id bigint not null references igny8_sites(id),
    industry_sector_id bigint null references igny8_industry_sectors(id),
    name varchar(255) not null,
    slug varchar(255) not null,
    is_active boolean not null default true,
    created_at timestamptz not null default now(),
    unique (site_id, slug)
  )`,
  `create table igny8_site_user_access (
    id bigserial primary key,
    user_id bigint not null references igny8_users(id),
    site_id bigint not null references igny8_sites(id),
    granted_by_id bigint null references igny8_users(id),
    granted_at timestamptz not null default now(),
    unique (user_id, site_id)
  )`,
  `create table igny8_site_integrations (
    id bigserial primary key,
    tenant_id bigint not null references igny8_tenants(id),
    site_id bigint not null references igny8_sites(id),
    platform varchar(20) not null,
    config_json jsonb not null default '{}',
    credentials_json jsonb not null default '{}',
    is_active boolean not null default true,
    sync_enabled boolean not null default false,
    last_sync_at timestamptz null,
    sync_status varchar(20) not null default 'pending',
    created_at timestamptz not null default now(),
    unique (site_id, platform)
  )`,
];

const migration: Migration = {
  description: 'legacy baseline: the schema the old Django code created',
  phase: 'expand',
  locks: [],
  async up({ trx }) {
    await execStatements(trx, CREATE);
    // As Django does, every foreign-key column gets a btree index of its own.
    await execStatements(
      trx,
      LEGACY_FOREIGN_KEY_INDEXES.map(
        ({ table, column }) => `create index ${table}_${column}_idx on ${table} (${column})`,
      ),
    );
  },
  irreversible: 'the baseline holds every legacy table; reverting it would delete tenant data',
};

export default migration;

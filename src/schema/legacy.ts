// The legacy shape as data: what `migrate adopt` verifies on a database created outside
// igny8, and what checks consult to know which shape they are looking at.
// Types are spelled as Postgres' format_type() prints them; `!` marks NOT NULL.

const SHAPE: Record<string, string> = {
  igny8_plans: `id bigint!, name character varying(255)!, slug character varying(50)!,
    price numeric(10,2)!, billing_cycle character varying(20)!, included_credits integer!,
    credits_per_month integer!, max_sites integer!, max_users integer!, max_industries integer,
    is_active boolean!, features jsonb!, created_at timestamp with time zone!`,
  igny8_tenants: `id bigint!, name character varying(255)!, slug character varying(255)!,
    owner_id bigint, plan_id bigint!, credits integer!, status character varying(20)!,
    payment_method character varying(30)!, billing_email character varying(254),
    billing_address_line1 character varying(255), billing_city character varying(100),
    billing_country character varying(2), created_at timestamp with time zone!,
    updated_at timestamp with time zone!`,
  igny8_users: `id bigint!, email character varying(254)!, password character varying(128)!,
    first_name character varying(150)!, last_name character varying(150)!,
    role character varying(20)!, tenant_id bigint, is_active boolean!,
    date_joined timestamp with time zone!, last_login timestamp with time zone`,
  igny8_subscriptions: `id bigint!, tenant_id bigint!, stripe_subscription_id character varying(255),
    payment_method character varying(30)!, external_payment_id character varying(255),
    status character varying(20)!, current_period_start timestamp with time zone!,
    current_period_end timestamp with time zone!, cancel_at_period_end boolean!,
    created_at timestamp with time zone!, updated_at timestamp with time zone!`,
  igny8_account_payment_methods: `id bigint!, tenant_id bigint!, type character varying(30)!,
    display_name character varying(100)!, is_default boolean!, is_enabled boolean!,
    is_verified boolean!, instructions text!, metadata jsonb!, created_at timestamp with time zone!`,
  igny8_invoices: `id bigint!, tenant_id bigint!, subscription_id bigint,
    invoice_number character varying(50)!, status character varying(20)!, subtotal numeric(10,2)!,
    tax numeric(10,2)!, total numeric(10,2)!, currency character varying(3)!, invoice_date date!,
    due_date date!, paid_at timestamp with time zone, billing_email character varying(254),
    line_items jsonb!, metadata jsonb!, created_at timestamp with time zone!`,
  igny8_credit_transactions: `id bigint!, tenant_id bigint!, transaction_type character varying(20)!,
    amount integer!, balance_after integer!, description character varying(255)!, metadata jsonb!,
    created_at timestamp with time zone!`,
  igny8_industries: `id bigint!, name character varying(255)!, slug character varying(50)!,
    description text!, is_active boolean!, created_at timestamp with time zone!`,
  igny8_industry_sectors: `id bigint!, industry_id bigint!, name character varying(255)!,
    slug character varying(50)!, description text!, is_active boolean!`,
  igny8_sites: `id bigint!, tenant_id bigint!, name character varying(255)!,
    slug character varying(255)!, domain character varying(200), description text!,
    industry_id bigint, is_active boolean!, status character varying(20)!,
    wp_url character varying(200), wp_username character varying(255),
    wp_app_password character varying(255), wp_api_key character varying(255),
    created_at timestamp with time zone!, updated_at timestamp with time zone!`,
  igny8_sectors: `id bigint!, tenant_id bigint!, site_id bigint!, industry_sector_id bigint,
    name character varying(255)!, slug character varying(255)!, is_active boolean!,
    created_at timestamp with time zone!`,
  igny8_site_user_access: `id bigint!, user_id bigint!, site_id bigint!, granted_by_id bigint,
    granted_at timestamp with time zone!`,
  igny8_site_integrations: `id bigint!, tenant_id bigint!, site_id bigint!,
    platform character varying(20)!, config_json jsonb!, credentials_json jsonb!,
    is_active boolean!, sync_enabled boolean!, last_sync_at timestamp with time zone,
    sync_status character varying(20)!, created_at timestamp with time zone!`,
};

export interface ColumnShape {
  table: string;
  column: string;
  type: string;
  nullable: boolean;
}

function parseShape(): ColumnShape[] {
  return Object.entries(SHAPE).flatMap(([table, text]) =>
    text.split(',').reduce<ColumnShape[]>((columns, raw) => {
      const part = raw.trim().replace(/\s+/g, ' ');
      // numeric(10,2) contains a comma: glue "2)!" back to its column.
      if (/^\d+\)/.test(part) && columns.length > 0) {
        const last = columns[columns.length - 1];
        last.type += `,${part.replace(/!$/, '')}`;
        last.nullable = !part.endsWith('!');
        return columns;
      }
      const notNull = part.endsWith('!');
      const body = notNull ? part.slice(0, -1) : part;
      const space = body.indexOf(' ');
      columns.push({ table, column: body.slice(0, space), type: body.slice(space + 1), nullable: !notNull });
      return columns;
    }, []),
  );
}

/** Every table of the legacy schema, in creation order. */
export const LEGACY_TABLES: readonly string[] = Object.keys(SHAPE);

/** Every column of the legacy schema with its type and nullability. */
export const LEGACY_COLUMNS: readonly ColumnShape[] = parseShape();

/**
 * The foreign-key columns that Django indexes on their own (those not already the sole
 * column of a unique constraint).
 */
export const LEGACY_FOREIGN_KEY_INDEXES: ReadonlyArray<{ table: string; column: string }> = [
  { table: 'igny8_tenants', column: 'owner_id' },
  { table: 'igny8_tenants', column: 'plan_id' },
  { table: 'igny8_users', column: 'tenant_id' },
  { table: 'igny8_account_payment_methods', column: 'tenant_id' },
  { table: 'igny8_invoices', column: 'tenant_id' },
  { table: 'igny8_invoices', column: 'subscription_id' },
  { table: 'igny8_credit_transactions', column: 'tenant_id' },
  { table: 'igny8_industry_sectors', column: 'industry_id' },
  { table: 'igny8_sites', column: 'tenant_id' },
  { table: 'igny8_sites', column: 'industry_id' },
  { table: 'igny8_sectors', column: 'tenant_id' },
  { table: 'igny8_sectors', column: 'site_id' },
  { table: 'igny8_sectors', column: 'industry_sector_id' },
  { table: 'igny8_site_user_access', column: 'user_id' },
  { table: 'igny8_site_user_access', column: 'site_id' },
  { table: 'igny8_site_user_access', column: 'granted_by_id' },
  { table: 'igny8_site_integrations', column: 'tenant_id' },
  { table: 'igny8_site_integrations', column: 'site_id' },
];

// Which shape is this database in? Legacy, target, or somewhere between: checks, the
// catalog and the domain read the answer instead of assuming.
import type { Knex } from 'knex';

export interface ColumnInfo {
  table: string;
  column: string;
  type: string;
  nullable: boolean;
}

export class SchemaInfo {
  private readonly byTable = new Map<string, Map<string, ColumnInfo>>();

  constructor(columns: readonly ColumnInfo[]) {
    for (const column of columns) {
      let table = this.byTable.get(column.table);
      if (!table) this.byTable.set(column.table, (table = new Map()));
      table.set(column.column, column);
    }
  }

  hasTable(table: string): boolean {
    return this.byTable.has(table);
  }

  hasColumn(table: string, column: string): boolean {
    return this.byTable.get(table)?.has(column) ?? false;
  }

  column(table: string, column: string): ColumnInfo | undefined {
    return this.byTable.get(table)?.get(column);
  }

  columnsOf(table: string): string[] {
    return [...(this.byTable.get(table)?.keys() ?? [])];
  }

  tables(): string[] {
    return [...this.byTable.keys()].sort();
  }

  /** seed #9: the accounts table is `igny8_tenants` before the rename, `igny8_accounts` after. */
  get accountsTable(): 'igny8_accounts' | 'igny8_tenants' {
    return this.hasTable('igny8_accounts') ? 'igny8_accounts' : 'igny8_tenants';
  }

  /** The column naming the account in `table` (`account_id`, or legacy `tenant_id`). */
  accountColumn(table: string): 'account_id' | 'tenant_id' {
    return this.hasColumn(table, 'account_id') ? 'account_id' : 'tenant_id';
  }

  /** seed #7: `max_industries` (legacy, NULL = 5) or `max_sectors_per_site` (0 = unlimited). */
  get sectorLimitColumn(): 'max_sectors_per_site' | 'max_industries' {
    return this.hasColumn('igny8_plans', 'max_sectors_per_site') ? 'max_sectors_per_site' : 'max_industries';
  }

  /** True when the legacy Django tables are present (before or after adoption). */
  get isIgny8Database(): boolean {
    return this.hasTable('igny8_plans') && this.hasTable('igny8_users');
  }
}

/** Reads every column of the public schema in one query. */
export async function inspectSchema(knex: Knex | Knex.Transaction): Promise<SchemaInfo> {
  const result = await knex.raw(`
    select c.relname as "table", a.attname as "column",
           format_type(a.atttypid, a.atttypmod) as "type", not a.attnotnull as "nullable"
      from pg_attribute a
      join pg_class c on c.oid = a.attrelid
      join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = current_schema() and c.relkind in ('r', 'p')
       and a.attnum > 0 and not a.attisdropped
     order by c.relname, a.attnum`);
  return new SchemaInfo(result.rows as ColumnInfo[]);
}

/**
 * The `pgconductor` schema as the database's catalogs describe it: tables and their columns,
 * constraints, indexes, functions and triggers, each with the definition the server itself prints
 * (format_type, pg_get_expr, pg_get_constraintdef, pg_get_indexdef, pg_get_functiondef,
 * pg_get_triggerdef). `sql/schema.sql` is rendered from it, and the schema test compares the catalog
 * of a migrated database with that of one built from `sql/schema.sql`.
 */
import type { Db } from "./db";

export interface CatalogColumn {
  name: string;
  type: string;
  notNull: boolean;
  default: string | null;
}

export interface CatalogTable {
  name: string;
  unlogged: boolean;
  columns: CatalogColumn[];
  /** Primary key, unique, check and exclusion constraints (NOT NULL is a column property). */
  constraints: { name: string; definition: string }[];
  foreignKeys: { name: string; definition: string }[];
  /** Indexes other than those backing a constraint. */
  indexes: { name: string; definition: string }[];
}

export interface SchemaCatalog {
  tables: CatalogTable[];
  functions: { signature: string; definition: string }[];
  triggers: { table: string; name: string; definition: string }[];
}

/** Reads the catalog of `schema`; everything in creation (oid) order, which is also a valid order to recreate it in. */
export async function readSchemaCatalog(db: Db, schema = "pgconductor"): Promise<SchemaCatalog> {
  const tables = await db<{ oid: number; name: string; unlogged: boolean }[]>`
    select c.oid::int8::float8 as oid, c.relname as name, c.relpersistence = 'u' as unlogged
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and c.relkind in ('r', 'p') order by c.oid`;
  const columns = await db<(CatalogColumn & { table: string })[]>`
    select c.relname as table, a.attname as name, format_type(a.atttypid, a.atttypmod) as type,
      a.attnotnull as "notNull", pg_get_expr(d.adbin, d.adrelid) as default
    from pg_attribute a
    join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
    where n.nspname = ${schema} and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
    order by c.oid, a.attnum`;
  const constraints = await db<{ table: string; name: string; kind: string; definition: string }[]>`
    select c.relname as table, k.conname as name, k.contype::text as kind, pg_get_constraintdef(k.oid) as definition
    from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and k.contype <> 'n' order by c.oid, k.contype, k.conname`;
  const indexes = await db<{ table: string; name: string; definition: string }[]>`
    select c.relname as table, i.relname as name, pg_get_indexdef(x.indexrelid) as definition
    from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class c on c.oid = x.indrelid
    join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and not exists (select 1 from pg_constraint k where k.conindid = x.indexrelid and k.conrelid = x.indrelid)
    order by i.oid`;
  const functions = await db<{ signature: string; definition: string }[]>`
    select p.oid::regprocedure::text as signature, pg_get_functiondef(p.oid) as definition
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = ${schema} and p.prokind in ('f', 'p') order by p.oid`;
  const triggers = await db<{ table: string; name: string; definition: string }[]>`
    select c.relname as table, t.tgname as name, pg_get_triggerdef(t.oid) as definition
    from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and not t.tgisinternal order by t.oid`;
  return {
    tables: tables.map((table) => ({
      name: table.name,
      unlogged: table.unlogged,
      columns: columns.filter((c) => c.table === table.name).map(({ table: _t, ...column }) => column),
      constraints: constraints.filter((k) => k.table === table.name && k.kind !== "f").map(({ name, definition }) => ({ name, definition })),
      foreignKeys: constraints.filter((k) => k.table === table.name && k.kind === "f").map(({ name, definition }) => ({ name, definition })),
      indexes: indexes.filter((i) => i.table === table.name).map(({ name, definition }) => ({ name, definition })),
    })),
    functions: [...functions],
    triggers: [...triggers],
  };
}

/** What `gen types` reads from the catalog: tables, views, functions, enums and composite types of some schemas. */
import type { Sql } from "postgres";

export interface ColumnType {
  /** pg_type name of the column's type, or of the array's element; domains resolved to their base. */
  name: string;
  /** Schema of that type (for enums and composite types). */
  schema: string;
  /** e = enum, c = composite, b = base, p = pseudo. */
  kind: string;
  array: boolean;
}

export interface Column {
  name: string;
  type: ColumnType;
  nullable: boolean;
  hasDefault: boolean;
  /** Identity ALWAYS or a generated column: cannot be written. */
  readOnly: boolean;
}

export interface Relation {
  schema: string;
  name: string;
  kind: "table" | "view";
  columns: Column[];
  relationships: { name: string; columns: string[]; oneToOne: boolean; referencedRelation: string; referencedColumns: string[] }[];
}

export interface FunctionModel {
  schema: string;
  name: string;
  args: { name: string; type: ColumnType; optional: boolean }[];
  returns: ColumnType | null;
  returnsSet: boolean;
  /** RETURNS TABLE (...) columns. */
  returnsTable: { name: string; type: ColumnType }[] | null;
}

export interface SchemaModel {
  schemas: string[];
  relations: Relation[];
  functions: FunctionModel[];
  enums: { schema: string; name: string; labels: string[] }[];
  composites: { schema: string; name: string; attributes: { name: string; type: ColumnType }[] }[];
}

/** Resolves a type oid to ColumnType in SQL: arrays to their element, domains to their base type. */
const TYPE_OF = (oid: string) => `(
  select json_build_object('name', coalesce(bt.typname, t.typname), 'schema', coalesce(btn.nspname, tn.nspname),
    'kind', coalesce(bt.typtype, t.typtype)::text, 'array', o.elem is not null)
  from (select ${oid} as oid) x
  cross join lateral (select case when a.typcategory = 'A' and a.typelem <> 0 then a.typelem end as elem,
                             a.oid from pg_type a where a.oid = x.oid) o
  join pg_type t on t.oid = coalesce(o.elem, o.oid)
  join pg_namespace tn on tn.oid = t.typnamespace
  left join pg_type bt on t.typtype = 'd' and bt.oid = t.typbasetype
  left join pg_namespace btn on btn.oid = bt.typnamespace)`;

export async function readSchemaModel(sql: Sql, schemas: string[]): Promise<SchemaModel> {
  const columns = await sql.unsafe<{ schema: string; relation: string; relkind: string; column: string; type: ColumnType; nullable: boolean; has_default: boolean; read_only: boolean }[]>(`
    select n.nspname as schema, c.relname as relation, c.relkind::text as relkind, a.attname as column,
      ${TYPE_OF("a.atttypid")} as type,
      not a.attnotnull as nullable,
      (a.atthasdef or a.attidentity <> '' or a.attgenerated <> '') as has_default,
      (a.attidentity = 'a' or a.attgenerated <> '') as read_only
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    where n.nspname = any ($1) and c.relkind in ('r', 'p', 'v', 'm', 'f')
    order by n.nspname, c.relname, a.attnum`, [schemas]);
  const keys = await sql.unsafe<{ schema: string; relation: string; name: string; columns: string[]; one_to_one: boolean; referenced: string; referenced_columns: string[] }[]>(`
    select n.nspname as schema, c.relname as relation, k.conname as name,
      array(select a.attname from unnest(k.conkey) with ordinality u(attnum, i)
            join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.attnum order by u.i) as columns,
      exists (select 1 from pg_index i where i.indrelid = k.conrelid and i.indisunique
              and (select array_agg(x order by x) from unnest(i.indkey::int2[]) x)
                = (select array_agg(x order by x) from unnest(k.conkey) x)) as one_to_one,
      r.relname as referenced,
      array(select a.attname from unnest(k.confkey) with ordinality u(attnum, i)
            join pg_attribute a on a.attrelid = k.confrelid and a.attnum = u.attnum order by u.i) as referenced_columns
    from pg_constraint k
    join pg_class c on c.oid = k.conrelid
    join pg_namespace n on n.oid = c.relnamespace
    join pg_class r on r.oid = k.confrelid
    where k.contype = 'f' and n.nspname = any ($1)
    order by n.nspname, c.relname, k.conname`, [schemas]);
  const enums = await sql.unsafe<{ schema: string; name: string; labels: string[] }[]>(`
    select n.nspname as schema, t.typname as name, array_agg(e.enumlabel order by e.enumsortorder) as labels
    from pg_type t join pg_namespace n on n.oid = t.typnamespace join pg_enum e on e.enumtypid = t.oid
    where n.nspname = any ($1) group by n.nspname, t.typname order by n.nspname, t.typname`, [schemas]);
  const composites = await sql.unsafe<{ schema: string; name: string; attributes: { name: string; type: ColumnType }[] }[]>(`
    select n.nspname as schema, t.typname as name,
      coalesce((select json_agg(json_build_object('name', a.attname, 'type', ${TYPE_OF("a.atttypid")}) order by a.attnum)
        from pg_attribute a where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped), '[]') as attributes
    from pg_type t join pg_namespace n on n.oid = t.typnamespace join pg_class c on c.oid = t.typrelid
    where n.nspname = any ($1) and t.typtype = 'c' and c.relkind = 'c' order by n.nspname, t.typname`, [schemas]);
  const functions = await sql.unsafe<{ schema: string; name: string; args: { name: string; type: ColumnType; mode: string }[]; defaults: number; returns: ColumnType; returns_set: boolean }[]>(`
    select n.nspname as schema, p.proname as name, p.proretset as returns_set, p.pronargdefaults::int as defaults,
      ${TYPE_OF("p.prorettype")} as returns,
      coalesce((select json_agg(json_build_object(
          'name', coalesce(p.proargnames[u.i], ''), 'type', ${TYPE_OF("u.oid")}, 'mode', coalesce(p.proargmodes[u.i], 'i')
        ) order by u.i)
        from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality u(oid, i)), '[]') as args
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = any ($1) and p.prokind = 'f'
      and p.prorettype not in ('trigger'::regtype, 'event_trigger'::regtype)
      and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
    order by n.nspname, p.proname, p.oid`, [schemas]);

  const relations = new Map<string, Relation>();
  for (const row of columns) {
    const key = `${row.schema}.${row.relation}`;
    let relation = relations.get(key);
    if (!relation) {
      relation = { schema: row.schema, name: row.relation, kind: row.relkind === "r" || row.relkind === "p" || row.relkind === "f" ? "table" : "view", columns: [], relationships: [] };
      relations.set(key, relation);
    }
    relation.columns.push({ name: row.column, type: row.type, nullable: row.nullable, hasDefault: row.has_default, readOnly: row.read_only });
  }
  for (const key of keys) {
    relations.get(`${key.schema}.${key.relation}`)?.relationships.push({
      name: key.name, columns: key.columns, oneToOne: key.one_to_one, referencedRelation: key.referenced, referencedColumns: key.referenced_columns,
    });
  }
  return {
    schemas,
    relations: [...relations.values()],
    enums,
    composites,
    functions: functions.map((f) => {
      const table = f.args.filter((a) => a.mode === "t");
      const inputs = f.args.filter((a) => a.mode === "i" || a.mode === "b" || a.mode === "v");
      return {
        schema: f.schema,
        name: f.name,
        // the last `defaults` inputs have defaults
        args: inputs.map(({ name, type }, index) => ({ name, type, optional: index >= inputs.length - f.defaults })),
        returns: f.returns,
        returnsSet: f.returns_set,
        returnsTable: table.length > 0 ? table.map(({ name, type }) => ({ name, type })) : null,
      };
    }),
  };
}

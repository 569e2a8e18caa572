/**
 * Renders a SchemaModel as a TypeScript `Database` type in the shape Supabase's generator prints
 * (Tables with Row/Insert/Update/Relationships, Views, Functions, Enums, CompositeTypes), so
 * `DatabaseSchema.fromSupabaseTypes<Database>()` and Supabase-style helpers accept it.
 */
import type { Column, ColumnType, FunctionModel, Relation, SchemaModel } from "./schema-model";

const NUMBER = new Set(["int2", "int4", "int8", "float4", "float8", "numeric", "oid"]);
const STRING = new Set([
  "text", "varchar", "bpchar", "char", "name", "citext", "uuid", "date", "time", "timetz", "timestamp", "timestamptz",
  "interval", "bytea", "inet", "cidr", "macaddr", "macaddr8", "money", "tsvector", "tsquery", "xml", "bit", "varbit",
  "point", "line", "lseg", "box", "path", "polygon", "circle", "int4range", "int8range", "numrange", "tsrange",
  "tstzrange", "daterange", "ltree", "vector", "regclass", "regtype", "pg_lsn",
]);

/** The TypeScript type of a PostgreSQL type. */
export function tsType(type: ColumnType, model: Pick<SchemaModel, "schemas">): string {
  const element = (() => {
    if (type.kind === "e") return model.schemas.includes(type.schema) ? `Database[${q(type.schema)}]["Enums"][${q(type.name)}]` : "string";
    if (type.kind === "c") return model.schemas.includes(type.schema) ? `Database[${q(type.schema)}]["CompositeTypes"][${q(type.name)}]` : "unknown";
    if (type.name === "bool") return "boolean";
    if (NUMBER.has(type.name)) return "number";
    if (type.name === "json" || type.name === "jsonb") return "Json";
    if (STRING.has(type.name)) return "string";
    if (type.name === "void") return "undefined";
    if (type.name === "record") return "Record<string, unknown>";
    return "unknown";
  })();
  return type.array ? `${element}[]` : element;
}

export function renderDatabaseTypes(model: SchemaModel): string {
  const lines = [
    "export type Json =",
    "  | string",
    "  | number",
    "  | boolean",
    "  | null",
    "  | { [key: string]: Json | undefined }",
    "  | Json[]",
    "",
    "export type Database = {",
  ];
  for (const schema of model.schemas) {
    const relations = model.relations.filter((r) => r.schema === schema);
    lines.push(`  ${key(schema)}: {`);
    section(lines, "Tables", relations.filter((r) => r.kind === "table"), (relation) => renderTable(relation, model));
    section(lines, "Views", relations.filter((r) => r.kind === "view"), (relation) => renderView(relation, model));
    section(lines, "Functions", groupByName(model.functions.filter((f) => f.schema === schema)), ([name, overloads]) => renderFunction(name, overloads, model));
    section(lines, "Enums", model.enums.filter((e) => e.schema === schema), (e) => [`${key(e.name)}: ${e.labels.map(q).join(" | ") || "never"}`]);
    section(lines, "CompositeTypes", model.composites.filter((c) => c.schema === schema), (c) => [
      `${key(c.name)}: {`,
      ...c.attributes.map((a) => `  ${key(a.name)}: ${tsType(a.type, model)} | null`),
      "}",
    ]);
    lines.push("  }");
  }
  lines.push("}", "");
  return lines.join("\n");
}

function section<T>(lines: string[], name: string, items: T[], render: (item: T) => string[]) {
  lines.push(`    ${name}: {`);
  if (items.length === 0) lines.push("      [_ in never]: never");
  for (const item of items) lines.push(...render(item).map((line) => `      ${line}`));
  lines.push("    }");
}

function renderTable(relation: Relation, model: SchemaModel): string[] {
  const row = relation.columns.map((c) => `${key(c.name)}: ${columnType(c, model)}`);
  const insert = relation.columns.map((c) =>
    c.readOnly ? `${key(c.name)}?: never` : `${key(c.name)}${c.nullable || c.hasDefault ? "?" : ""}: ${columnType(c, model)}`,
  );
  const update = relation.columns.map((c) => (c.readOnly ? `${key(c.name)}?: never` : `${key(c.name)}?: ${columnType(c, model)}`));
  return [
    `${key(relation.name)}: {`,
    ...block("Row", row),
    ...block("Insert", insert),
    ...block("Update", update),
    ...relationships(relation),
    "}",
  ];
}

function renderView(relation: Relation, model: SchemaModel): string[] {
  // PostgreSQL does not record whether a view's column can be null, so every column may be.
  const row = relation.columns.map((c) => `${key(c.name)}: ${tsType(c.type, model)} | null`);
  return [`${key(relation.name)}: {`, ...block("Row", row), ...relationships(relation), "}"];
}

function relationships(relation: Relation): string[] {
  if (relation.relationships.length === 0) return ["  Relationships: []"];
  return [
    "  Relationships: [",
    ...relation.relationships.flatMap((r) => [
      "    {",
      `      foreignKeyName: ${q(r.name)}`,
      `      columns: [${r.columns.map(q).join(", ")}]`,
      `      isOneToOne: ${r.oneToOne}`,
      `      referencedRelation: ${q(r.referencedRelation)}`,
      `      referencedColumns: [${r.referencedColumns.map(q).join(", ")}]`,
      "    },",
    ]),
    "  ]",
  ];
}

function renderFunction(name: string, overloads: FunctionModel[], model: SchemaModel): string[] {
  const shapes = overloads.map((f) => {
    const args = f.args.filter((a) => a.name !== "");
    const argLines = args.length === 0 && f.args.length === 0 ? ["Args: never"] : ["Args: {", ...args.map((a) => `  ${key(a.name)}${a.optional ? "?" : ""}: ${tsType(a.type, model)}`), "}"];
    let returns: string[];
    if (f.returnsTable) returns = ["Returns: {", ...f.returnsTable.map((c) => `  ${key(c.name)}: ${tsType(c.type, model)}`), "}[]"];
    else {
      const base = f.returns?.kind === "c" && model.relations.some((r) => r.schema === f.returns!.schema && r.name === f.returns!.name && r.kind === "table")
        ? `Database[${q(f.returns.schema)}]["Tables"][${q(f.returns.name)}]["Row"]`
        : f.returns ? tsType(f.returns, model) : "unknown";
      returns = [`Returns: ${base}${f.returnsSet && !f.returns?.array ? "[]" : ""}`];
    }
    return [...argLines, ...returns];
  });
  if (shapes.length === 1) return [`${key(name)}: {`, ...shapes[0].map((l) => `  ${l}`), "}"];
  return [`${key(name)}:`, ...shapes.flatMap((shape) => ["  | {", ...shape.map((l) => `      ${l}`), "    }"])];
}

function block(name: string, fields: string[]): string[] {
  return [`  ${name}: {`, ...fields.map((f) => `    ${f}`), "  }"];
}

function columnType(column: Column, model: SchemaModel): string {
  return `${tsType(column.type, model)}${column.nullable ? " | null" : ""}`;
}

function groupByName(functions: FunctionModel[]): [string, FunctionModel[]][] {
  const groups = new Map<string, FunctionModel[]>();
  for (const f of functions) groups.set(f.name, [...(groups.get(f.name) ?? []), f]);
  return [...groups];
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const key = (name: string) => (IDENTIFIER.test(name) ? name : q(name));
const q = (text: string) => JSON.stringify(text);

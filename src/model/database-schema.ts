/**
 * Types of the user's own tables, for typed table triggers. Built from a generated `Database` type
 * (`pgconductor gen types typescript`, or Supabase's generator); there is nothing to check at run time.
 */
export class DatabaseSchema<Database = unknown> {
  declare readonly __database: Database;

  private constructor() {}

  static fromGeneratedTypes<Database>(): DatabaseSchema<Database> {
    return new DatabaseSchema<Database>();
  }

  static fromSupabaseTypes<Database>(): DatabaseSchema<Database> {
    return new DatabaseSchema<Database>();
  }
}

export type DatabaseSchemaLike = DatabaseSchema<any>;

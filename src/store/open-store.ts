import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Kysely, PostgresDialect, sql, type Dialect, type SelectQueryBuilder } from "kysely";
import { Migrator } from "kysely/migration";
import { migrations } from "./migrations/index.ts";
import { nodeSqliteDialect } from "./node-sqlite-dialect.ts";
import type { Database } from "./schema.ts";

export type StoreKind = "sqlite" | "postgres";

export interface Store {
  readonly kind: StoreKind;
  readonly db: Kysely<Database>;
  /**
   * Makes a "pick the next due row" query safe for several claimers. PostgreSQL skips rows another
   * replica has locked; SQLite needs nothing, since its single writer already serialises claims.
   */
  lockForClaim<QB extends SelectQueryBuilder<Database, keyof Database, object>>(query: QB): QB;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** PostgreSQL when set (several replicas); otherwise SQLite in `dataDir`. */
  databaseUrl?: string | undefined;
  dataDir: string;
}

const INT8_OID = 20;

export async function openStore(options: StoreOptions): Promise<Store> {
  const kind: StoreKind = options.databaseUrl ? "postgres" : "sqlite";
  const dialect: Dialect = options.databaseUrl ? await postgresDialect(options.databaseUrl) : nodeSqliteDialect(sqliteFile(options.dataDir));
  const db = new Kysely<Database>({ dialect });
  try {
    await migrate(db, kind);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return {
    kind,
    db,
    lockForClaim: (query) => (kind === "postgres" ? (query.forUpdate().skipLocked() as typeof query) : query),
    close: () => db.destroy(),
  };
}

async function postgresDialect(databaseUrl: string): Promise<Dialect> {
  // The driver is loaded only for PostgreSQL: the embedded store does without its memory.
  const { default: pg } = await import("pg");
  return new PostgresDialect({
    pool: new pg.Pool({
      connectionString: databaseUrl,
      max: 10,
      // Epoch milliseconds fit a double exactly; pg would otherwise hand back strings.
      types: { getTypeParser: (oid, format) => (oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) },
    }),
  });
}

function sqliteFile(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true });
  return join(dataDir, "gantry.sqlite");
}

async function migrate(db: Kysely<Database>, kind: StoreKind): Promise<void> {
  // Kysely looks for its bookkeeping tables in every schema unless told which one; name ours, or a
  // second Gantry schema in the same database would be taken as already migrated.
  const migrationTableSchema =
    kind === "postgres" ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, migrationTableSchema });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`database migration ${failed} failed: ${(error as Error).message}`, { cause: error });
  }
}

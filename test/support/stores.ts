import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { openStore, type Store } from "../../src/store/open-store.ts";

/** The PostgreSQL that CI starts on this machine; override for another server. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export interface StoreBackend {
  name: "sqlite" | "postgres";
  /** A fresh, migrated, empty store location; `open` may be called again for a second replica. */
  location(): Promise<{ open(): Promise<Store>; options: { databaseUrl?: string; dataDir: string } }>;
}

/** Each location is isolated: a new SQLite directory, or a new PostgreSQL schema. */
export const storeBackends: StoreBackend[] = [
  {
    name: "sqlite",
    async location() {
      const options = { dataDir: mkdtempSync(join(tmpdir(), "gantry-store-")) };
      return { options, open: () => openStore(options) };
    },
  },
  {
    name: "postgres",
    async location() {
      const schema = `gantry_test_${randomBytes(6).toString("hex")}`;
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`create schema ${schema}`);
      await client.end();
      const separator = TEST_DATABASE_URL.includes("?") ? "&" : "?";
      const databaseUrl = `${TEST_DATABASE_URL}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      const options = { databaseUrl, dataDir: tmpdir() };
      return { options, open: () => openStore(options) };
    },
  },
];

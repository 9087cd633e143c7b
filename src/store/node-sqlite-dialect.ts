import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { SqliteDialect, type SqliteDatabase } from "kysely";

/**
 * Kysely over Node's built-in `node:sqlite`: no native addon to compile, so `npm install` needs no
 * toolchain and the embedded store works on any Node 24.
 */
export function nodeSqliteDialect(filename: string): SqliteDialect {
  return new SqliteDialect({ database: () => Promise.resolve(openDatabase(filename)) });
}

const params = (values: ReadonlyArray<unknown>) => values as SQLInputValue[];

function openDatabase(filename: string): SqliteDatabase {
  const database = new DatabaseSync(filename);
  // WAL lets readers proceed during a write; busy_timeout waits out another process's write.
  // synchronous=NORMAL in WAL mode: a commit survives a process crash (the case the inbox must
  // cover) without an fsync per write; only a power loss can drop the last commits.
  database.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;");
  return {
    close: () => database.close(),
    prepare(sql) {
      const statement = database.prepare(sql);
      return {
        reader: statement.columns().length > 0,
        all: (values) => statement.all(...params(values)),
        run: (values) => statement.run(...params(values)),
        iterate: (values) => statement.iterate(...params(values)),
      };
    },
  };
}

import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { SqliteDialect, type SqliteDatabase } from "kysely";
import { checkpointOffThread } from "./sqlite-checkpointer.ts";

/**
 * Kysely over Node's built-in `node:sqlite`: no native addon to compile, so `npm install` needs no
 * toolchain and the embedded store works on any Node 24.
 */
export function nodeSqliteDialect(filename: string): SqliteDialect {
  return new SqliteDialect({ database: () => Promise.resolve(openDatabase(filename)) });
}

const params = (values: ReadonlyArray<unknown>) => values as SQLInputValue[];

/**
 * Statements kept compiled, by SQL text. Compiling costs as much as running a small insert, and
 * the intake and the loops run the same few statements thousands of times a second.
 */
const STATEMENT_CACHE_SIZE = 256;

function openDatabase(filename: string): SqliteDatabase {
  const database = new DatabaseSync(filename);
  // WAL lets readers proceed during a write; busy_timeout waits out another process's write.
  // synchronous=NORMAL in WAL mode: a commit survives a process crash (the case the inbox must
  // cover) without an fsync per write; only a power loss can drop the last commits.
  database.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;");
  // Checkpoints run on a thread of their own, not in the middle of a commit on the event loop.
  const checkpointer = checkpointOffThread(filename, database);
  // Kysely runs one statement at a time on this connection, so a cached statement is never in use twice.
  const statements = new Map<string, { statement: StatementSync; reader: boolean }>();
  const compiled = (sql: string) => {
    let entry = statements.get(sql);
    if (entry) {
      // Most recently used last: the first key is the one to drop when the cache is full.
      statements.delete(sql);
    } else {
      const statement = database.prepare(sql);
      entry = { statement, reader: statement.columns().length > 0 };
      if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
    }
    statements.set(sql, entry);
    return entry;
  };
  return {
    close: () => {
      checkpointer.stop();
      database.close();
    },
    prepare(sql) {
      const { statement, reader } = compiled(sql);
      return {
        reader,
        all: (values) => statement.all(...params(values)),
        run: (values) => statement.run(...params(values)),
        iterate: (values) => statement.iterate(...params(values)),
      };
    },
  };
}

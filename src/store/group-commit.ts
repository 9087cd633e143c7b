export interface GroupCommitOptions<Item, Outcome> {
  /**
   * Writes `items` in one transaction and returns one outcome per item, in order. It must be all or
   * nothing: when it throws, no item is stored and every caller in the batch sees the error.
   */
  commit: (items: Item[]) => Promise<Outcome[]>;
  /** Items per transaction at most; the rest wait for the next one. */
  maxBatch: number;
}

interface Waiting<Item, Outcome> {
  item: Item;
  resolve: (outcome: Outcome) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: the writes of concurrent callers share one transaction, so a commit (a WAL append
 * on SQLite, a flush to disk on PostgreSQL) is paid once per batch instead of once per write, and
 * each caller still learns its outcome only after the commit that holds its item.
 *
 * Items that arrive while a batch is being committed form the next batch. One batch is committed
 * at a time, so under load batches grow by themselves, and a lone write waits only for the end of
 * the current turn of the event loop.
 */
export class GroupCommit<Item, Outcome> {
  readonly #options: GroupCommitOptions<Item, Outcome>;
  #waiting: Waiting<Item, Outcome>[] = [];
  #committing = false;
  #scheduled = false;

  constructor(options: GroupCommitOptions<Item, Outcome>) {
    if (options.maxBatch < 1) throw new Error("maxBatch must be at least 1");
    this.#options = options;
  }

  /** Resolves with the item's outcome once the transaction holding it has committed. */
  submit(item: Item): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#committing || this.#scheduled) return;
    this.#scheduled = true;
    // After the I/O callbacks of this turn: the requests whose bodies arrived together share a batch.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#commitNext();
    });
  }

  async #commitNext(): Promise<void> {
    const batch = this.#waiting.splice(0, this.#options.maxBatch);
    if (batch.length === 0) return;
    this.#committing = true;
    try {
      const outcomes = await this.#options.commit(batch.map((waiting) => waiting.item));
      batch.forEach((waiting, index) => waiting.resolve(outcomes[index]!));
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    } finally {
      this.#committing = false;
      if (this.#waiting.length > 0) this.#schedule();
    }
  }
}

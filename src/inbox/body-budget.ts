/** One body being received: it holds a share of the budget until released. */
export interface BodySlot {
  /** Extends the share to `totalBytes`; false when the budget cannot cover it. */
  grow(totalBytes: number): boolean;
  release(): void;
}

export interface BodyBudgetLimits {
  /** Webhook bodies received or held at once. */
  maxBodies: number;
  /** Bytes of those bodies held in memory at once. */
  maxBytes: number;
}

/**
 * Bounds the webhook bodies in memory, in count and in bytes, so a flood of large or slow deliveries
 * cannot grow the process: a body that does not fit is refused (503) instead of buffered.
 */
export class BodyBudget {
  readonly #limits: BodyBudgetLimits;
  #bodies = 0;
  #bytes = 0;
  #opened = 0;

  constructor(limits: BodyBudgetLimits) {
    this.#limits = limits;
  }

  /** Bodies taken in since start-up: how the intake's recent traffic is told. */
  get bodiesOpened(): number {
    return this.#opened;
  }

  /** A slot for a body announced as `declaredBytes` long (0 when unknown), or undefined when full. */
  open(declaredBytes: number): BodySlot | undefined {
    if (this.#bodies >= this.#limits.maxBodies || this.#bytes + declaredBytes > this.#limits.maxBytes) return undefined;
    this.#bodies += 1;
    this.#opened += 1;
    this.#bytes += declaredBytes;
    let held = declaredBytes;
    let open = true;
    return {
      grow: (totalBytes) => {
        if (totalBytes <= held) return true;
        if (this.#bytes + totalBytes - held > this.#limits.maxBytes) return false;
        this.#bytes += totalBytes - held;
        held = totalBytes;
        return true;
      },
      release: () => {
        if (!open) return;
        open = false;
        this.#bodies -= 1;
        this.#bytes -= held;
      },
    };
  }
}

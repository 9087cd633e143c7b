/** A seeded generator (mulberry32): the same seed gives the same inputs, so a failing run can be replayed. */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  /** Text of `length` characters drawn from `alphabet` (default: letters, digits, punctuation, emoji, astral code points). */
  text(length: number, alphabet = "abcXYZ019 -_/@`*#>|\"'\\\n\t<>éß中😀"): string {
    const characters = [...alphabet];
    let text = "";
    while (text.length < length) text += characters[this.int(0, characters.length - 1)];
    return text.slice(0, length);
  }
}

/** A fresh seed, or the one in `FUZZ_SEED` to replay a run. */
export function fuzzSeed(): number {
  const given = process.env.FUZZ_SEED;
  if (given !== undefined && given !== "") return Number(given) >>> 0;
  return Math.floor(Math.random() * 2 ** 32) >>> 0;
}

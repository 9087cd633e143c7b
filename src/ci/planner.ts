/** One test file and what it is expected to take. */
export interface WeighedFile {
  path: string;
  weightMs: number;
}

export interface PlannedShard {
  files: string[];
  /** The sum of its files' weights. */
  estimatedMs: number;
}

export type ShardCountSetting = number | { auto: { targetWallTimeMs: number; maxShards: number } };

/**
 * How many shards: the fixed count, or with `auto` the fewest that bring the lower bound of the wall
 * time (the larger of total / n and the longest file) under the target, up to the maximum. Never more
 * shards than files, never fewer than one.
 */
export function shardCount(files: readonly WeighedFile[], setting: ShardCountSetting): number {
  const cap = Math.max(1, files.length);
  if (typeof setting === "number") return Math.min(setting, cap);
  const total = files.reduce((sum, file) => sum + file.weightMs, 0);
  const wanted = Math.ceil(total / Math.max(1, setting.auto.targetWallTimeMs));
  return Math.max(1, Math.min(wanted, setting.auto.maxShards, cap));
}

/** The best any split can do: no shard is shorter than an even share, nor than its longest file. */
export function makespanLowerBound(files: readonly WeighedFile[], shards: number): number {
  const total = files.reduce((sum, file) => sum + file.weightMs, 0);
  return Math.max(total / shards, ...files.map((file) => file.weightMs), 0);
}

export function makespan(shards: readonly PlannedShard[]): number {
  return Math.max(0, ...shards.map((shard) => shard.estimatedMs));
}

/**
 * Longest processing time first: files from the heaviest down, each onto the shard with the least
 * load so far. Ties are broken by path and by shard index, so the same input always gives the same
 * split. A pass of moves and swaps between the longest shard and the others then shortens the
 * longest shard where LPT left slack (it is at most 4/3 of the optimum, usually far closer).
 */
export function planShards(files: readonly WeighedFile[], count: number): PlannedShard[] {
  const shards = Array.from({ length: Math.max(1, count) }, () => ({ files: [] as WeighedFile[], estimatedMs: 0 }));
  const ordered = [...files].sort((a, b) => b.weightMs - a.weightMs || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const file of ordered) {
    let target = shards[0]!;
    for (const shard of shards) if (shard.estimatedMs < target.estimatedMs) target = shard;
    target.files.push(file);
    target.estimatedMs += file.weightMs;
  }
  improve(shards);
  return shards.map((shard) => ({ files: shard.files.map((file) => file.path).sort(), estimatedMs: shard.estimatedMs }));
}

interface Bin {
  files: WeighedFile[];
  estimatedMs: number;
}

/** Moves or swaps a file out of the longest shard while that makes the longest shard shorter (bounded rounds). */
function improve(shards: Bin[]): void {
  for (let round = 0; round < 200; round++) {
    const longest = shards.reduce((a, b) => (b.estimatedMs > a.estimatedMs ? b : a));
    let best: { gain: number; apply: () => void } | undefined;
    for (const other of shards) {
      if (other === longest) continue;
      const gap = longest.estimatedMs - other.estimatedMs;
      for (const [i, file] of longest.files.entries()) {
        // Moving `file` helps when the other shard stays below the current longest.
        const moved = Math.max(longest.estimatedMs - file.weightMs, other.estimatedMs + file.weightMs);
        const moveGain = longest.estimatedMs - moved;
        if (moveGain > (best?.gain ?? 0)) best = { gain: moveGain, apply: () => move(longest, other, i, -1) };
        for (const [j, theirs] of other.files.entries()) {
          const delta = file.weightMs - theirs.weightMs;
          if (delta <= 0 || delta >= gap) continue;
          const swapped = Math.max(longest.estimatedMs - delta, other.estimatedMs + delta);
          const swapGain = longest.estimatedMs - swapped;
          if (swapGain > (best?.gain ?? 0)) best = { gain: swapGain, apply: () => move(longest, other, i, j) };
        }
      }
    }
    if (!best || best.gain < 1e-9) return;
    best.apply();
  }
}

function move(from: Bin, to: Bin, fromIndex: number, toIndex: number): void {
  const [file] = from.files.splice(fromIndex, 1);
  from.estimatedMs -= file!.weightMs;
  to.files.push(file!);
  to.estimatedMs += file!.weightMs;
  if (toIndex < 0) return;
  const [back] = to.files.splice(toIndex, 1);
  to.estimatedMs -= back!.weightMs;
  from.files.push(back!);
  from.estimatedMs += back!.weightMs;
}

/** The median of recent durations per file; files without history get `newFileMs`, or the median of the known files. */
export function weighFiles(paths: readonly string[], history: ReadonlyMap<string, readonly number[]>, newFileMs?: number): WeighedFile[] {
  const known = new Map<string, number>();
  for (const path of paths) {
    const durations = history.get(path);
    if (durations && durations.length > 0) known.set(path, median(durations));
  }
  const fallback = newFileMs ?? (known.size > 0 ? median([...known.values()]) : 1_000);
  return paths.map((path) => ({ path, weightMs: known.get(path) ?? fallback }));
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** What `vitest --shard k/n` does: files in path order, cut into n runs of (nearly) equal count. */
export function splitByCount(files: readonly WeighedFile[], count: number): PlannedShard[] {
  const ordered = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const size = Math.ceil(ordered.length / count);
  return Array.from({ length: count }, (_, k) => {
    const part = ordered.slice(k * size, (k + 1) * size);
    return { files: part.map((file) => file.path), estimatedMs: part.reduce((sum, file) => sum + file.weightMs, 0) };
  });
}

import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from "yaml";

/**
 * Parses one `.github/gantry.yml` (or a file it extends) with bounds checked before the YAML parser
 * runs: size, then nesting (a cheap linear scan: the parser recurses per level and, thousands of levels
 * deep, blows the stack or runs out of memory), then aliases while building values (billion laughs).
 * Also indexes where every setting is, once, so each problem's line is a lookup.
 */

/** Larger files are refused unread: a real config is a few kilobytes. */
export const MAX_CONFIG_BYTES = 256 * 1024;
/** Levels of nesting, block or flow; Gantry's own settings go about 6 deep. */
export const MAX_CONFIG_DEPTH = 32;
/** Aliases resolved while building values (yaml's `maxAliasCount`): stops exponential expansion. */
export const MAX_CONFIG_ALIASES = 100;

export interface YamlProblem {
  line: number;
  setting: string;
  message: string;
}

export type ParsedConfig =
  | { ok: true; value: Record<string, unknown>; lineOf: (path: readonly PropertyKey[]) => number }
  | { ok: false; problem: YamlProblem };

/** What a parse sends back from the worker thread: plain data, the line lookup rebuilt from it. */
export type ParsedConfigData =
  | { ok: true; value: Record<string, unknown>; offsets: Map<string, number>; lineStarts: number[]; rootOffset: number }
  | { ok: false; problem: YamlProblem };

export function parseConfigYaml(source: string): ParsedConfig {
  return withLineLookup(parseConfigYamlData(source));
}

export function withLineLookup(data: ParsedConfigData): ParsedConfig {
  if (!data.ok) return data;
  const { offsets, lineStarts, rootOffset } = data;
  const lineOf = (path: readonly PropertyKey[]) => {
    for (let length = path.length; length > 0; length--) {
      const offset = offsets.get(pathKey(path.slice(0, length)));
      if (offset !== undefined) return lineOfOffset(lineStarts, offset);
    }
    return lineOfOffset(lineStarts, rootOffset);
  };
  return { ok: true, value: data.value, lineOf };
}

/** 1-based line holding `offset`, by binary search over the lines' start offsets. */
function lineOfOffset(lineStarts: readonly number[], offset: number): number {
  let low = 0;
  let high = lineStarts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (lineStarts[middle]! <= offset) low = middle;
    else high = middle - 1;
  }
  return low + 1;
}

export function parseConfigYamlData(source: string): ParsedConfigData {
  const bytes = Buffer.byteLength(source, "utf8");
  if (bytes > MAX_CONFIG_BYTES) {
    return fail(lineAt(source, Math.min(source.length, MAX_CONFIG_BYTES)), "(file size)", `The file is ${kilobytes(bytes)}; Gantry reads configuration files up to ${kilobytes(MAX_CONFIG_BYTES)}. Remove what Gantry does not use.`);
  }
  const tooDeep = firstTooDeep(source);
  if (tooDeep !== undefined) {
    return fail(lineAt(source, tooDeep), "(nesting)", `Settings are nested more than ${MAX_CONFIG_DEPTH} levels deep here; Gantry's settings need far fewer.`);
  }
  const lineCounter = new LineCounter();
  // uniqueKeys off: yaml's check compares each key with every earlier one (quadratic); the index below finds duplicates.
  const document = parseDocument(source, { lineCounter, uniqueKeys: false, prettyErrors: false });
  const lineOfOffset = (offset: number) => lineCounter.linePos(offset).line;
  const [syntaxError] = document.errors;
  if (syntaxError) {
    return fail(lineOfOffset(syntaxError.pos[0]), "(YAML syntax)", `The file is not valid YAML: ${syntaxError.message.split("\n")[0]}`);
  }
  const index = indexSettings(document.contents);
  if (index.duplicate) return fail(lineOfOffset(index.duplicate.offset), index.duplicate.setting, "is set twice in the same mapping; keep one");
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: MAX_CONFIG_ALIASES });
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    return fail(lineOfOffset(index.firstAlias ?? 0), "(YAML aliases)", `Aliases (*name) expand to too much data (${error.message}); write the settings out instead.`);
  }
  value ??= {};
  if (typeof value !== "object" || Array.isArray(value)) {
    const kind = Array.isArray(value) ? "a list" : "a single value";
    return fail(lineOfOffset(document.contents?.range?.[0] ?? 0), "(top level)", `The file must be a mapping of settings (\`environments:\` and the others), not ${kind}.`);
  }
  return { ok: true, value: value as Record<string, unknown>, offsets: index.offsets, lineStarts: lineCounter.lineStarts, rootOffset: document.contents?.range?.[0] ?? 0 };
}

function fail(line: number, setting: string, message: string): ParsedConfigData {
  return { ok: false, problem: { line, setting, message } };
}

const pathKey = (path: readonly PropertyKey[]) => path.map(String).join("\u0000");

interface SettingIndex {
  /** Start of each setting's key (or list item), by path: one entry per node, built in one pass. */
  offsets: Map<string, number>;
  duplicate?: { setting: string; offset: number };
  firstAlias?: number;
}

function indexSettings(root: unknown): SettingIndex {
  const index: SettingIndex = { offsets: new Map() };
  const pending: { node: unknown; path: PropertyKey[] }[] = [{ node: root, path: [] }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { node, path } = next;
    // The walk runs last-first: keep the earliest place.
    if (isAlias(node)) index.firstAlias = Math.min(index.firstAlias ?? Infinity, node.range?.[0] ?? 0);
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair) || !isScalar(pair.key)) continue;
        const child = [...path, String(pair.key.value)];
        const key = pathKey(child);
        const offset = pair.key.range?.[0] ?? 0;
        if (!index.offsets.has(key)) index.offsets.set(key, offset);
        else if (!index.duplicate || offset < index.duplicate.offset) index.duplicate = { setting: child.join("."), offset };
        pending.push({ node: pair.value, path: child });
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, position) => {
        const child = [...path, position];
        index.offsets.set(pathKey(child), (item as Node | null)?.range?.[0] ?? 0);
        pending.push({ node: item, path: child });
      });
    }
  }
  return index;
}

/**
 * Offset of the first place nesting passes MAX_CONFIG_DEPTH, or undefined. Counts block levels by
 * indentation (and `- ` items opened on one line) plus open flow brackets outside quoted scalars
 * (which may span lines) and comments. It may count more than YAML would, never less, which is the
 * safe side for a bound.
 */
function firstTooDeep(source: string): number | undefined {
  const indents: number[] = [];
  let flow = 0;
  let quote: '"' | "'" | null = null;
  /** Indentation of the line that opened a block scalar (`|`, `>`): its text is not YAML. */
  let blockScalarOf: number | null = null;
  let lineStart = 0;
  while (lineStart < source.length) {
    const newline = source.indexOf("\n", lineStart);
    const lineEnd = newline === -1 ? source.length : newline;
    let column = lineStart;
    while (column < lineEnd && source[column] === " ") column++;
    if (blockScalarOf !== null) {
      if (column === lineEnd || source[column] === "\r" || column - lineStart > blockScalarOf) {
        lineStart = lineEnd + 1;
        continue;
      }
      blockScalarOf = null;
    }
    const text = source.slice(column, lineEnd);
    // A quote on the line could hide where the header really is: then the text is counted, which only over-counts.
    if (flow === 0 && quote === null && !/["']/u.test(text) && BLOCK_SCALAR_START.test(text)) blockScalarOf = column - lineStart;
    if (flow === 0 && quote === null && column < lineEnd && source[column] !== "#" && source[column] !== "\r") {
      while (indents.length > 0 && indents.at(-1)! >= column - lineStart) indents.pop();
      indents.push(column - lineStart);
      // "- - - x": each dash opens a level of its own.
      while (source[column] === "-" && (source[column + 1] === " " || column + 1 === lineEnd)) {
        column += 1;
        while (column < lineEnd && source[column] === " ") column++;
        indents.push(column - lineStart);
        if (indents.length > MAX_CONFIG_DEPTH) return column;
      }
      if (indents.length > MAX_CONFIG_DEPTH) return column;
    }
    let previous = " ";
    for (let at = column; at < lineEnd; at++) {
      const char = source[at]!;
      if (quote === '"' && char === "\\") {
        at += 1;
      } else if (quote !== null) {
        if (char === quote) quote = null;
      } else if ((char === '"' || char === "'") && startsNode(source, at, previous, flow > 0)) {
        // A quote opens a scalar only where a node starts; `don't` is plain text.
        quote = char;
      } else if (char === "#" && (at === lineStart || /\s/u.test(source[at - 1]!))) {
        break;
      } else if (char === "[" || char === "{") {
        flow += 1;
        if (indents.length + flow > MAX_CONFIG_DEPTH) return at;
      } else if ((char === "]" || char === "}") && flow > 0) {
        flow -= 1;
      }
      if (char !== " ") previous = char;
    }
    lineStart = lineEnd + 1;
  }
  return undefined;
}

/** A line whose value is a block scalar header: `key: |`, `- >-`, `|2 # comment`. */
const BLOCK_SCALAR_START = /(?:^|[:?-]\s)\s*[|>][+-]?\d?[+-]?\s*(?:#.*)?\r?$/u;

/** After `key: `, `- `, `? ` or indentation; in flow, after `[`, `{`, `,` or `:`. */
function startsNode(source: string, at: number, previous: string, inFlow: boolean): boolean {
  if (inFlow) return /[[{,:]/u.test(previous);
  return /[\s:?-]/u.test(previous) && /\s/u.test(source[at - 1] ?? " ");
}

/** 1-based line of a character offset. */
function lineAt(source: string, offset: number): number {
  let line = 1;
  for (let at = source.indexOf("\n"); at !== -1 && at < offset; at = source.indexOf("\n", at + 1)) line++;
  return line;
}

function kilobytes(bytes: number): string {
  return `${Math.ceil(bytes / 1024)} KB`;
}

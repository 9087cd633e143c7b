// A gzipped ustar archive, as GitHub's codeload serves for a commit tarball. No installed package
// writes tar, and ustar is a 512-byte header per file, so this is written out here.
import { gzipSync } from "node:zlib";

const BLOCK = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

/** Splits a long path into ustar's 155-byte prefix and 100-byte name fields. */
function splitPath(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: "" };
  const cut = path.lastIndexOf("/", 155);
  const name = path.slice(cut + 1);
  if (cut <= 0 || Buffer.byteLength(name) > 100) throw new Error(`path too long for ustar: ${path}`);
  return { name, prefix: path.slice(0, cut) };
}

function header(path: string, size: number, type: "0" | "5", mtime: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  const { name, prefix } = splitPath(path);
  const field = (offset: number, text: string): void => void block.write(text, offset, "utf8");
  field(0, name);
  field(100, octal(type === "5" ? 0o755 : 0o644, 8));
  field(108, octal(0, 8));
  field(116, octal(0, 8));
  field(124, octal(size, 12));
  field(136, octal(mtime, 12));
  field(148, " ".repeat(8)); // checksum is computed with its own field as spaces
  field(156, type);
  field(257, "ustar\x0000");
  field(265, "root");
  field(297, "root");
  field(345, prefix);
  const sum = block.reduce((acc, byte) => acc + byte, 0);
  field(148, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

/** Files under one top directory (GitHub's `{owner}-{repo}-{sha7}/`), gzipped. */
export function tarGz(topDir: string, files: Map<string, Buffer>, mtime = 0): Buffer {
  const parts: Buffer[] = [header(`${topDir}/`, 0, "5", mtime)];
  for (const [path, content] of [...files].toSorted(([a], [b]) => a.localeCompare(b))) {
    parts.push(header(`${topDir}/${path}`, content.length, "0", mtime), content);
    const pad = (BLOCK - (content.length % BLOCK)) % BLOCK;
    parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(BLOCK * 2)); // end-of-archive marker
  return gzipSync(Buffer.concat(parts));
}

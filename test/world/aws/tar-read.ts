// Reads a gzipped ustar archive (a GitHub commit tarball) into path → bytes, dropping the top directory.
import { gunzipSync } from "node:zlib";

const BLOCK = 512;

function text(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString("utf8");
}

/** Regular files by their path below the archive's top directory (`{owner}-{repo}-{sha7}/`). */
export function readTarGz(archive: Buffer): Map<string, Buffer> {
  const tar = gunzipSync(archive);
  const files = new Map<string, Buffer>();
  for (let offset = 0; offset + BLOCK <= tar.length; ) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    const name = text(header, 0, 100);
    const prefix = text(header, 345, 155);
    const size = Number.parseInt(text(header, 124, 12).trim() || "0", 8);
    const type = text(header, 156, 1) || "0";
    const path = prefix ? `${prefix}/${name}` : name;
    const body = tar.subarray(offset + BLOCK, offset + BLOCK + size);
    if (type === "0") files.set(path.split("/").slice(1).join("/"), Buffer.from(body));
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return files;
}

/**
 * Globs as in `.github/gantry.yml`: `**` any number of directories, `*` and `?` within one path
 * segment, `{a,b}` alternatives. Compiled to a regular expression anchored at both ends.
 */
export function globRegExp(glob: string): RegExp {
  let pattern = "";
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === "*" && glob[i + 1] === "*") {
      const slash = glob[i + 2] === "/";
      pattern += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (char === "*") pattern += "[^/]*";
    else if (char === "?") pattern += "[^/]";
    else if (char === "{") {
      pattern += "(?:";
      depth++;
    } else if (char === "}" && depth > 0) {
      pattern += ")";
      depth--;
    } else if (char === "," && depth > 0) pattern += "|";
    else pattern += char.replace(/[.+^$()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${pattern}${")".repeat(depth)}$`);
}

export function matchesGlob(path: string, glob: string): boolean {
  return globRegExp(glob).test(path);
}

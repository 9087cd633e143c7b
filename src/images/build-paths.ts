/**
 * A Dockerfile or build context named by `.github/gantry.yml` must stay inside the repository: the
 * builder runs with the operator's identity, so `../` or an absolute path could reach files of the
 * build host or of another checkout.
 */
export function buildPathProblem(path: string): string | undefined {
  if (path === "") return "must name a path inside the repository";
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) return "must be a path relative to the repository's root, not an absolute one";
  if (/[\\\0\n\r]/.test(path)) return "must use / between directories and no control characters";
  if (path.split("/").some((segment) => segment === "..")) return "must stay inside the repository: no \"..\"";
  if (path.length > 1_024) return "is longer than 1024 characters";
  return undefined;
}

/** `a/./b/` → `a/b`; `.` and `./` → `.`. Only for paths buildPathProblem accepted. */
export function normalBuildPath(path: string): string {
  const segments = path.split("/").filter((segment) => segment !== "" && segment !== ".");
  return segments.length === 0 ? "." : segments.join("/");
}

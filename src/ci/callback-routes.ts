import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "probot";
import { sendJson, type Routes } from "../web/http-server.ts";
import type { CallbackTokens } from "./callback-token.ts";
import type { CiService } from "./ci-service.ts";
import { shardReportSchema } from "./shard-report.ts";

/** A report lists at most 1,000 failures and 10,000 files: well under this. */
const MAX_REPORT_BYTES = 4 * 1024 * 1024;

export interface CallbackRouteOptions {
  service: CiService;
  tokens: CallbackTokens;
  /** The commit's tarball, read from GitHub with the installation's token. */
  tarball: (run: { installationId: number; owner: string; repo: string; sha: string }) => Promise<Buffer>;
  log: Logger;
}

/**
 * The shard runner's side of Gantry's server: its job, the commit's source and its report, each
 * only with a token signed for that shard's running attempt (`Authorization: Bearer`); and the log
 * link of a check run, signed for one shard attempt. Anything else is refused and changes nothing.
 */
export function ciCallbackRoutes(options: CallbackRouteOptions): Routes {
  const { service, tokens, log } = options;
  const claimOf = (request: IncomingMessage) => {
    const shard = new URL(request.url ?? "/", "http://gantry").searchParams.get("shard") ?? "";
    const [, token = ""] = /^Bearer (\S+)$/.exec(request.headers.authorization ?? "") ?? [];
    return tokens.verify(token, shard);
  };
  const refuse = (response: ServerResponse, request: IncomingMessage, status: number, message: string) => {
    log.warn({ path: request.url?.split("?")[0], status }, `ci: callback refused: ${message}`);
    sendJson(response, status, { message });
  };

  return {
    "GET /ci/job": async (request, response) => {
      const claim = claimOf(request);
      if (!claim) return refuse(response, request, 401, "not a valid token for this shard");
      const found = await service.job(claim.shardId, claim.attempt);
      if (!found) return refuse(response, request, 409, "this shard attempt is not running");
      sendJson(response, 200, found.job);
    },
    "GET /ci/source": async (request, response) => {
      const claim = claimOf(request);
      if (!claim) return refuse(response, request, 401, "not a valid token for this shard");
      const found = await service.job(claim.shardId, claim.attempt);
      if (!found) return refuse(response, request, 409, "this shard attempt is not running");
      const body = await options.tarball(found.run);
      response.writeHead(200, { "content-type": "application/gzip", "content-length": body.length }).end(body);
    },
    "POST /ci/result": async (request, response) => {
      const claim = claimOf(request);
      if (!claim) {
        request.resume();
        return refuse(response, request, 401, "not a valid token for this shard");
      }
      const text = await readBody(request, MAX_REPORT_BYTES);
      if (text === undefined) return refuse(response, request, 413, "the report is too large");
      let parsed: ReturnType<typeof shardReportSchema.safeParse>;
      try {
        parsed = shardReportSchema.safeParse(JSON.parse(text));
      } catch {
        return refuse(response, request, 400, "the report is not JSON");
      }
      if (!parsed.success) return refuse(response, request, 400, `the report does not fit: ${parsed.error.issues.slice(0, 3).map((issue) => issue.path.join(".")).join(", ")}`);
      if (!(await service.acceptReport(claim.shardId, claim.attempt, parsed.data))) return refuse(response, request, 409, "this shard attempt is not running (already reported, cancelled or re-run)");
      sendJson(response, 200, { accepted: true });
    },
    "GET /ci/log": async (request, response) => {
      const query = new URL(request.url ?? "/", "http://gantry").searchParams;
      const shard = query.get("shard") ?? "";
      const attempt = Number(query.get("attempt"));
      if (!Number.isInteger(attempt) || !tokens.verifyLogSignature(shard, attempt, query.get("sig") ?? "")) return refuse(response, request, 401, "not a valid log link");
      const text = await service.logs(shard, attempt);
      if (text === undefined) return refuse(response, request, 404, "no log is kept for this shard attempt");
      response.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end(text);
    },
  };
}

async function readBody(request: IncomingMessage, max: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > max) {
      request.resume();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

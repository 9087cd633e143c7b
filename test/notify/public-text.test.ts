import { describe, expect, it } from "vitest";
import { publicErrorText, publicText, quoteUserText } from "../../src/notify/public-text.ts";

describe("public text", () => {
  it("cuts an AWS error to its name and a short message, without ARNs or account ids", () => {
    const error = Object.assign(
      new Error(
        "User: arn:aws:sts::123456789012:assumed-role/gantry-deployer/session is not authorized to perform: elasticloadbalancing:ModifyListener on resource: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/3/4 because no identity-based policy allows it in account 123456789012",
      ),
      { name: "AccessDenied" },
    );
    const text = publicErrorText(error);
    expect(text).toMatch(/^AccessDenied: User: \(ARN\) is not authorized to perform: elasticloadbalancing:ModifyListener on resource: \(ARN\)/u);
    expect(text).not.toMatch(/123456789012|arn:aws/u);
    expect(text.length).toBeLessThanOrEqual(160);
  });

  it("keeps hexadecimal digests and SHAs, which are not account ids", () => {
    expect(publicText("no image sha256:0123456789ab0123456789ab in repo 0123456789abcdef0123456789abcdef01234567")).toBe(
      "no image sha256:0123456789ab0123456789ab in repo 0123456789abcdef0123456789abcdef01234567",
    );
  });

  it("quotes people's words as one short code span that mentions nobody and cannot be closed from inside", () => {
    const quoted = quoteUserText("``` @admin\nping @org/team | `x` " + "a".repeat(100));
    expect(quoted.startsWith("```` ")).toBe(true);
    expect(quoted.endsWith("… ````")).toBe(true);
    expect(quoted).not.toMatch(/@(?!\u200D)/u);
    expect(quoted).not.toContain("\n");
    expect(quoted).not.toContain("|");
    expect(quoteUserText("freeze")).toBe("`freeze`");
  });
});

import { ROLE_ARN, repoConfigSchema } from "./repo-config.ts";

/** The AWS accounts the operator lets roles live in (GANTRY_AWS_ACCOUNT_IDS); undefined: any account. */
export type AwsAccountIds = readonly string[] | undefined;

/** Why Gantry will not assume `roleArn` on this server, or undefined when it may. */
export function roleOutsideAccounts(roleArn: string, accountIds: AwsAccountIds): string | undefined {
  if (!accountIds) return undefined;
  const account = ROLE_ARN.exec(roleArn)?.[1];
  if (account && accountIds.includes(account)) return undefined;
  return (
    `${roleArn} is in AWS account ${account ?? "(none)"}, and this Gantry server assumes roles only in ` +
    `${accountIds.join(", ")} (GANTRY_AWS_ACCOUNT_IDS): use a role in one of those accounts, or ask the operator to allow this one`
  );
}

/** The repository schema with the server's account limit on every environment's role. */
export function repoConfigSchemaWithin(accountIds: AwsAccountIds) {
  return repoConfigSchema.superRefine((config, ctx) => {
    for (const [name, environment] of Object.entries(config.environments)) {
      const problem = roleOutsideAccounts(environment.aws.roleArn, accountIds);
      if (problem) ctx.addIssue({ code: "custom", path: ["environments", name, "aws", "roleArn"], message: problem });
    }
  });
}

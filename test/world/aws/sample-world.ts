// The sample setup: one cluster, blue and green services of the sample app, a target group
// each, one ALB with a production listener (100% blue) and a test listener (100% green), and the
// role a deployer assumes, trusting the sample repository's id as ExternalId.
import { SAMPLE_HEALTH_PATH, sampleManifest, type SampleBehaviour } from "../sample-service/behaviour.ts";
import type { Ecr } from "./ecr.ts";
import type { Ecs } from "./ecs.ts";
import type { Elbv2 } from "./elbv2.ts";
import { AwsError } from "./protocols.ts";
import type { Sts } from "./sts.ts";

export interface SampleWorld {
  clusterArn: string;
  clusterName: string;
  repositoryName: string;
  /** Task definition of the blue service (sample app v1, healthy). */
  taskDefinitionArn: string;
  services: { blue: { name: string; arn: string }; green: { name: string; arn: string } };
  targetGroups: { blue: string; green: string };
  loadBalancerArn: string;
  listeners: {
    production: { arn: string; url: string };
    test: { arn: string; url: string };
  };
  /** A rule on the production listener: requests with `X-Gantry-Target: green` go to green. */
  rules: { greenByHeader: string };
  /** The deployer role; its trust policy requires sts:ExternalId = SAMPLE_REPOSITORY_ID. */
  roleArn: string;
}

export const SAMPLE_REPOSITORY = "sample-app";
/** The GitHub id of the repository the sample role trusts (others can be added with `sts.trust`). */
export const SAMPLE_REPOSITORY_ID = 424242;
const CONTAINER_PORT = 8080;

export function pushSampleImage(ecr: Ecr, tag: string, behaviour: SampleBehaviour): { digest: string; imageUri: string } {
  ecr.createRepository(SAMPLE_REPOSITORY);
  const manifest = sampleManifest(behaviour);
  try {
    ecr.putImage({ repositoryName: SAMPLE_REPOSITORY, imageManifest: manifest, imageTag: tag });
  } catch (err) {
    // Pushing the same image under the same tag again is a no-op, not a failure, for tests.
    if (!(err instanceof AwsError && err.code === "ImageAlreadyExistsException")) throw err;
  }
  const digest = ecr.describeImages({ repositoryName: SAMPLE_REPOSITORY, imageIds: [{ imageTag: tag }] }).imageDetails[0]?.imageDigest ?? "";
  return { digest, imageUri: `${ecr.registry}/${SAMPLE_REPOSITORY}@${digest}` };
}

/** A task definition for the sample app pinned to an image. */
export function sampleTaskDefinition(imageUri: string): Record<string, unknown> {
  return {
    family: "sample-app",
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    cpu: "256",
    memory: "512",
    containerDefinitions: [{ name: "app", image: imageUri, essential: true, portMappings: [{ containerPort: CONTAINER_PORT, protocol: "tcp" }] }],
  };
}

function forward(arn: string): unknown[] {
  return [{ Type: "forward", ForwardConfig: { TargetGroups: [{ TargetGroupArn: arn, Weight: 1 }] } }];
}

/** `name` tells apart several sample worlds on one emulator (their images share one ECR repository). */
export async function seedSampleWorld(ecs: Ecs, elb: Elbv2, ecr: Ecr, sts: Sts, name = "sample"): Promise<SampleWorld> {
  const roleArn = sts.createRole(`gantry-${name}-deployer`, { externalIds: [String(SAMPLE_REPOSITORY_ID)] });
  const { imageUri } = pushSampleImage(ecr, "v1", { version: "v1" });
  const clusterName = `gantry-${name}`;
  const clusterArn = ecs.createCluster(clusterName);
  const taskDefinitionArn = String(ecs.registerTaskDefinition(sampleTaskDefinition(imageUri)).taskDefinition.taskDefinitionArn);
  const blueGroup = elb.createTargetGroup(`${name}-blue`, CONTAINER_PORT, SAMPLE_HEALTH_PATH);
  const greenGroup = elb.createTargetGroup(`${name}-green`, CONTAINER_PORT, SAMPLE_HEALTH_PATH);
  const lb = elb.createLoadBalancer(`gantry-${name}`);
  const production = await elb.createListener(lb.arn, forward(blueGroup.arn));
  const test = await elb.createListener(lb.arn, forward(greenGroup.arn));
  // Lets a caller pin a request to green on the production listener, and gives ModifyRule a rule to change.
  const greenByHeader = elb.createRule(
    production.arn,
    10,
    [{ Field: "http-header", HttpHeaderConfig: { HttpHeaderName: "X-Gantry-Target", Values: ["green"] } }],
    forward(greenGroup.arn),
  );
  const service = (colour: string, targetGroupArn: string, desiredCount: number) => ({
    name: `${name}-${colour}`,
    arn: ecs.createService({
      cluster: clusterName,
      serviceName: `${name}-${colour}`,
      taskDefinition: taskDefinitionArn,
      desiredCount,
      loadBalancers: [{ targetGroupArn, containerName: "app", containerPort: CONTAINER_PORT }],
      // Health checks run every few hundred ms here, faster than a process starts; without a grace
      // period ECS would replace every task before it listens.
      healthCheckGracePeriodSeconds: 5,
    }),
  });
  return {
    clusterArn,
    clusterName,
    repositoryName: SAMPLE_REPOSITORY,
    taskDefinitionArn,
    services: { blue: service("blue", blueGroup.arn, 2), green: service("green", greenGroup.arn, 0) },
    targetGroups: { blue: blueGroup.arn, green: greenGroup.arn },
    loadBalancerArn: lb.arn,
    listeners: {
      production: { arn: production.arn, url: `http://127.0.0.1:${production.port}` },
      test: { arn: test.arn, url: `http://127.0.0.1:${test.port}` },
    },
    rules: { greenByHeader },
    roleArn,
  };
}

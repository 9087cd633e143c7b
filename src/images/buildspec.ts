/**
 * What CodeBuild runs for every image, sent with each build (`buildspecOverride`): a repository's
 * own buildspec would run whatever it says with the project's role. It logs in to ECR in the build's
 * account and region, checks that the source is the commit asked for, builds the Dockerfile and
 * pushes `<repository>:<sha>`. What varies comes in as environment variables, never as text spliced
 * into commands.
 */
export const BUILDSPEC = `version: 0.2
env:
  shell: bash
phases:
  pre_build:
    on-failure: ABORT
    commands:
      - test "$CODEBUILD_RESOLVED_SOURCE_VERSION" = "$GANTRY_SHA"
      - REGISTRY="$(cut -d ':' -f 5 <<< "$CODEBUILD_BUILD_ARN").dkr.ecr.$AWS_REGION.amazonaws.com"
      - aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "$REGISTRY"
  build:
    on-failure: ABORT
    commands:
      - docker build --label "org.opencontainers.image.revision=$GANTRY_SHA" --build-arg "GANTRY_SHA=$GANTRY_SHA" --file "$GANTRY_DOCKERFILE" --tag "$REGISTRY/$GANTRY_ECR_REPOSITORY:$GANTRY_SHA" "$GANTRY_CONTEXT"
  post_build:
    on-failure: ABORT
    commands:
      - docker push "$REGISTRY/$GANTRY_ECR_REPOSITORY:$GANTRY_SHA"
`;

/** The variables BUILDSPEC reads. */
export function buildspecVariables(input: { sha: string; ecrRepository: string; dockerfile: string; context: string }) {
  return [
    { name: "GANTRY_SHA", value: input.sha, type: "PLAINTEXT" as const },
    { name: "GANTRY_ECR_REPOSITORY", value: input.ecrRepository, type: "PLAINTEXT" as const },
    { name: "GANTRY_DOCKERFILE", value: input.dockerfile, type: "PLAINTEXT" as const },
    { name: "GANTRY_CONTEXT", value: input.context, type: "PLAINTEXT" as const },
  ];
}

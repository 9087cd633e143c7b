// typescript-eslint needs TypeScript's JS compiler API, hence typescript 5.x in devDependencies.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "data/", "schema/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
    },
  },
  {
    // Text written to GitHub must fit its limits: only src/notify/github-writes.ts calls these.
    files: ["src/**/*.ts"],
    ignores: ["src/notify/github-writes.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "MemberExpression[object.property.name='issues'][property.name=/^(createComment|updateComment)$/]",
          message: "Write comments through src/notify/github-writes.ts, which fits them to GitHub's limits.",
        },
        {
          selector: "MemberExpression[object.property.name='checks'][property.name=/^(create|update)$/]",
          message: "Write check runs through src/notify/github-writes.ts, which fits them to GitHub's limits.",
        },
        {
          selector: "MemberExpression[object.property.name='repos'][property.name='createDeploymentStatus']",
          message: "Write Deployment statuses through src/notify/github-writes.ts, which fits them to GitHub's limits.",
        },
      ],
    },
  },
);

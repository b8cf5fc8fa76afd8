// ESLint flat config: typescript-eslint's recommended rules over every TypeScript folder.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

const deepImport = (service) => ({
  group: [`**/${service}/**`, `!**/${service}/index.ts`],
  message: `Import ${service}/ through ${service}/index.ts only: it is another service's public surface.`,
});
const anyImport = (folder, why) => ({ group: [`**/${folder}/**`], message: why });

/** One no-restricted-imports rule per folder: which other services (or none) it may reach, and how. */
function serviceBoundaries() {
  const rule = (files, patterns) => ({ files, rules: { "no-restricted-imports": ["error", { patterns }] } });
  const noServices = "lib/ is what every service uses; it must not depend on any of them.";
  return [
    rule(["api/**/*.ts"], [deepImport("relayer"), deepImport("indexer"), deepImport("auditor")]),
    rule(
      ["relayer/**/*.ts"],
      [
        anyImport("api", "The relayer depends only on lib/: the API calls it, never the other way."),
        anyImport("indexer", "The relayer depends only on lib/."),
        anyImport("auditor", "The relayer depends only on lib/."),
      ],
    ),
    rule(
      ["indexer/**/*.ts"],
      [
        anyImport("api", "The indexer depends only on lib/."),
        anyImport("relayer", "The indexer depends only on lib/."),
        anyImport("auditor", "The indexer depends only on lib/."),
      ],
    ),
    rule(
      ["lib/**/*.ts"],
      [
        anyImport("api", noServices),
        anyImport("relayer", noServices),
        anyImport("indexer", noServices),
        anyImport("auditor", noServices),
        anyImport("scripts", noServices),
      ],
    ),
    rule(
      ["auditor/**/*.ts"],
      [
        anyImport("api", "The auditor trusts only the chain and the ledger: it depends on lib/, never on the API."),
        deepImport("relayer"),
        deepImport("indexer"),
      ],
    ),
    rule(["scripts/**/*.ts"], [deepImport("api"), deepImport("relayer"), deepImport("indexer"), deepImport("auditor")]),
  ];
}

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "artifacts/",
      "cache/",
      "coverage/",
      "types/",
      ".stablerail/",
      ".hardhat-builds/",
      "ignition/deployments/",
      "lib/chain/abis/",
      "**/migrations/",
      "ui/dist/",
      // Written by `ponder start` (bench/indexer/vs-ponder.ts), git-ignored.
      "bench/ponder/ponder-env.d.ts",
      "bench/ponder/.ponder/",
      "bench/ponder/generated/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.mocha } },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[callee.name='parseFloat']",
          message: "Money is bigint base units; never parse floats.",
        },
        {
          selector: "MemberExpression[object.property.name=/^(it|describe)$/][property.name='only']",
          message: "No focused tests.",
        },
        {
          selector: "MemberExpression[object.name=/^(it|describe)$/][property.name='only']",
          message: "No focused tests.",
        },
      ],
    },
  },
  // Service boundaries (docs/design/boundaries.md): a service is imported only through its index.ts,
  // lib imports no service, and the relayer and the indexer import no other service.
  ...serviceBoundaries(),
  // The wallet web app runs in the browser and talks to the API over HTTP only: no server code in its bundle.
  {
    files: ["ui/**/*.{ts,tsx}"],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: ["api", "relayer", "indexer", "auditor", "lib", "scripts"].map((folder) =>
            anyImport(folder, "ui/ is a browser app: it reaches the services over HTTP, never by import."),
          ),
        },
      ],
    },
  },
  {
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs" },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);

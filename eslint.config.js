// ESLint flat config: typescript-eslint's recommended rules over every TypeScript folder.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

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
  {
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs" },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);

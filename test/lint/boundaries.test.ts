/**
 * The service boundaries of docs/design/boundaries.md are enforced by ESLint (eslint.config.js):
 * lint real configuration against small sources placed in each folder, and expect a deep import
 * across a boundary to fail `npm run lint` while the same import through index.ts passes.
 */
import { expect } from "chai";
import { ESLint } from "eslint";

const eslint = new ESLint({ cwd: process.cwd() });

/** The no-restricted-imports messages ESLint reports for `source` placed at `filePath`. */
async function boundaryErrors(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
}

describe("Service boundaries (ESLint no-restricted-imports)", () => {
  it("refuses a deep import of the relayer from the API, and accepts relayer/index.ts", async () => {
    const deep = await boundaryErrors(
      "api/money/boundary-fixture.ts",
      'import { relayIdFor } from "../../relayer/enqueue-relay.ts";\nexport const id = relayIdFor;\n',
    );
    expect(deep).to.have.length(1);
    expect(deep[0]).to.contain("relayer/index.ts");
    const viaIndex = await boundaryErrors(
      "api/money/boundary-fixture.ts",
      'import { relayIdFor } from "../../relayer/index.ts";\nexport const id = relayIdFor;\n',
    );
    expect(viaIndex).to.deep.equal([]);
  });

  it("refuses any import of another service from the relayer and the indexer", async () => {
    expect(
      await boundaryErrors(
        "relayer/boundary-fixture.ts",
        'import { buildApp } from "../api/index.ts";\nexport { buildApp };\n',
      ),
    ).to.have.length(1);
    expect(
      await boundaryErrors(
        "indexer/boundary-fixture.ts",
        'import { getRelay } from "../relayer/index.ts";\nexport { getRelay };\n',
      ),
    ).to.have.length(1);
  });

  it("refuses an import of a service from lib/", async () => {
    expect(
      await boundaryErrors(
        "lib/ledger/boundary-fixture.ts",
        'import { startIndexer } from "../../indexer/index.ts";\nexport { startIndexer };\n',
      ),
    ).to.have.length(1);
  });

  it("finds no deep import across a boundary anywhere in the tree", async () => {
    const results = await eslint.lintFiles(["api", "relayer", "indexer", "lib", "scripts"]);
    const crossings = results.flatMap((r) =>
      r.messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => `${r.filePath}:${m.line} ${m.message}`),
    );
    expect(crossings).to.deep.equal([]);
  });
});

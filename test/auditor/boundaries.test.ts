/**
 * The auditor's boundaries (docs/design/boundaries.md, eslint.config.js): it depends on lib/ only, and
 * the API reaches it through auditor/index.ts only.
 */
import { expect } from "chai";
import { ESLint } from "eslint";

const eslint = new ESLint({ cwd: process.cwd() });

async function boundaryErrors(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
}

describe("Auditor boundaries (ESLint no-restricted-imports)", () => {
  it("refuses any import of the API from the auditor, and deep imports of the indexer", async () => {
    expect(
      await boundaryErrors(
        "auditor/boundary-fixture.ts",
        'import { buildApp } from "../api/index.ts";\nexport { buildApp };\n',
      ),
    ).to.have.length(1);
    expect(
      await boundaryErrors(
        "auditor/reconcile/boundary-fixture.ts",
        'import { createRpc } from "../../indexer/rpc/rpc.ts";\nexport { createRpc };\n',
      ),
    ).to.have.length(1);
  });

  it("refuses a deep import of the auditor from the API, and accepts auditor/index.ts", async () => {
    const deep = await boundaryErrors(
      "api/routes/v1/audit/boundary-fixture.ts",
      'import { verifyJournalChain } from "../../../../auditor/journal-chain/verify-chain.ts";\nexport { verifyJournalChain };\n',
    );
    expect(deep).to.have.length(1);
    expect(deep[0]).to.contain("auditor/index.ts");
    expect(
      await boundaryErrors(
        "api/routes/v1/audit/boundary-fixture.ts",
        'import { verifyJournalChain } from "../../../../auditor/index.ts";\nexport { verifyJournalChain };\n',
      ),
    ).to.deep.equal([]);
  });

  it("refuses an import of the auditor from lib/, the indexer and the relayer", async () => {
    for (const file of [
      "lib/ledger/boundary-fixture.ts",
      "indexer/boundary-fixture.ts",
      "relayer/boundary-fixture.ts",
    ]) {
      const depth = "../".repeat(file.split("/").length - 1);
      expect(
        await boundaryErrors(
          file,
          `import { verifyJournalChain } from "${depth}auditor/index.ts";\nexport { verifyJournalChain };\n`,
        ),
        file,
      ).to.have.length(1);
    }
  });

  it("finds no import across the auditor's boundary in the tree", async () => {
    const results = await eslint.lintFiles(["auditor"]);
    const crossings = results.flatMap((r) =>
      r.messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => `${r.filePath}:${m.line} ${m.message}`),
    );
    expect(crossings).to.deep.equal([]);
  });
});

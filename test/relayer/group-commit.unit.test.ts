import { expect } from "chai";

import { createGroupCommit } from "../../relayer/group-commit.ts";

describe("createGroupCommit (relayer/group-commit.ts)", () => {
  it("writes the items of one turn together, and those arriving during a write in the next group", async () => {
    const writes: number[][] = [];
    let release!: () => void;
    const firstWriteHeld = new Promise<void>((resolve) => (release = resolve));
    const commit = createGroupCommit(async (items: number[]) => {
      writes.push(items);
      if (writes.length === 1) await firstWriteHeld;
      return items.map((item) => item * 10);
    });
    const first = [commit(1), commit(2), commit(3)];
    await new Promise((resolve) => setImmediate(resolve));
    const second = [commit(4), commit(5)]; // arrive while the first write is in flight
    release();
    expect(await Promise.all([...first, ...second])).to.deep.equal([10, 20, 30, 40, 50]);
    expect(writes).to.deep.equal([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it("keeps items of different keys in different writes", async () => {
    const writes: string[][] = [];
    const commit = createGroupCommit(
      async (items: string[]) => {
        writes.push(items);
        return items;
      },
      (item) => item[0]!,
    );
    await Promise.all([commit("a1"), commit("b1"), commit("a2")]);
    expect(writes).to.have.deep.members([["a1", "a2"], ["b1"]]);
  });

  it("rejects every item of a failed write, and writes the next items afresh", async () => {
    let fail = true;
    const commit = createGroupCommit(async (items: number[]) => {
      if (fail) throw new Error("write failed");
      return items;
    });
    const results = await Promise.allSettled([commit(1), commit(2)]);
    expect(results.map((result) => result.status)).to.deep.equal(["rejected", "rejected"]);
    fail = false;
    expect(await commit(3)).to.equal(3);
  });
});

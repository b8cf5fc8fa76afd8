/**
 * Summarises a V8 `.cpuprofile` by where its samples' own time went: per npm package (or our
 * folder, or node's internals), then the costliest functions. The profile notes in
 * docs/benchmarks.md are read off this.
 *
 * Run: `tsx bench/lib/summarize-profile.ts <file.cpuprofile> [functions to list, default 25]`
 */
import { readFileSync } from "node:fs";

type ProfileNode = { id: number; callFrame: { functionName: string; url: string; lineNumber: number } };
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };

const [file, listed = "25"] = process.argv.slice(2);
if (!file) throw new Error("usage: summarize-profile.ts <file.cpuprofile> [functions]");
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));

/** Where a frame's code lives: an npm package, a folder of ours, node's internals, or V8's own bucket. */
function placeOf({ callFrame: { url, functionName } }: ProfileNode): string {
  if (!url) return functionName.startsWith("(") ? functionName : `native ${functionName}`;
  if (url.startsWith("wasm://")) return "WebAssembly";
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return dependency[1]!;
  if (url.startsWith("node:")) return "node internals";
  const ours = /\/((?:api|relayer|indexer|lib|auditor|bench|test|ui)\/[^/]+)/.exec(url);
  return ours ? ours[1]! : url;
}

const byPlace = new Map<string, number>();
const byFunction = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, index) => {
  const micros = profile.timeDeltas[index] ?? 0;
  const node = nodes.get(id)!;
  const place = placeOf(node);
  const name = `${place}  ${node.callFrame.functionName || "(anonymous)"}:${node.callFrame.lineNumber + 1}`;
  total += micros;
  byPlace.set(place, (byPlace.get(place) ?? 0) + micros);
  byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
});

const top = (table: Map<string, number>, count: number) =>
  [...table]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, micros]) => `${((100 * micros) / total).toFixed(1).padStart(5)} %  ${name}`)
    .join("\n");
process.stdout.write(`${(total / 1e6).toFixed(2)} s sampled\n\nby package or folder\n${top(byPlace, 20)}\n\n`);
process.stdout.write(`costliest functions (own time)\n${top(byFunction, Number(listed))}\n`);

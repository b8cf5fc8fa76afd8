/**
 * `npm run build:ui`: builds the wallet web app (ui/) with Vite into ui/dist, writes a gzip and a
 * brotli twin of every text file (the API serves them by Accept-Encoding: api/plugins/ui.ts), and
 * measures the first load — the JavaScript index.html loads before anything else (its module script
 * and module preloads), compressed — against the budget: over {@link FIRST_LOAD_BUDGET_BYTES} of
 * gzip the build fails. Pages and viem are separate chunks, loaded when first used; they are listed
 * too.
 *
 * Output: ui/dist, and one table on stdout ending "first load: N kB gzip (budget 200 kB)".
 *
 * `--if-stale` builds only when ui/dist is missing or older than a file of ui/ (what `npm start`
 * and the browser tests run: a fresh clone gets its build, an unchanged tree costs one stat walk).
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, extname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

import { build } from "vite";

/** First-load JavaScript, gzip-compressed, may not exceed this (issue 15: under 200 kB). */
export const FIRST_LOAD_BUDGET_BYTES = 200_000;

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../ui");
const dist = join(root, "dist");
const COMPRESSIBLE = new Set([".js", ".css", ".html", ".svg", ".json", ".txt", ".webmanifest"]);

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;

function files(dir: string, skip: (path: string) => boolean = () => false): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (skip(path)) return [];
    return statSync(path).isDirectory() ? files(path, skip) : [path];
  });
}

/**
 * Whether ui/dist is missing or older than any source of the app (ui/ outside dist, and this script).
 * @returns true when a build is needed
 */
export function uiBuildIsStale(): boolean {
  const built = join(dist, "index.html");
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  const sources = [...files(root, (path) => path === dist), fileURLToPath(import.meta.url)];
  return sources.some((path) => statSync(path).mtimeMs > builtAt);
}

/** The JavaScript index.html loads up front: its module scripts and module preloads. */
export function firstLoadScripts(indexHtml: string): string[] {
  const scripts = [...indexHtml.matchAll(/<script[^>]+type="module"[^>]+src="([^"]+)"/g)].map((m) => m[1]!);
  const preloads = [...indexHtml.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g)].map((m) => m[1]!);
  return [...new Set([...scripts, ...preloads])];
}

export type UiBuildReport = { firstLoadGzipBytes: number; overBudget: boolean; table: string };

/**
 * Builds ui/ into ui/dist with its compressed twins and measures the first load.
 * @returns the first load's gzip size, whether it is over budget, and the printable table
 */
export async function buildUi(): Promise<UiBuildReport> {
  const started = Date.now();
  await build({ root, configFile: join(root, "vite.config.ts"), logLevel: "warn", mode: "production" });

  const sizes = new Map<string, { raw: number; gzip: number; brotli: number }>();
  for (const path of files(dist)) {
    const extension = extname(path);
    if (!COMPRESSIBLE.has(extension)) continue;
    const body = readFileSync(path);
    const gzip = gzipSync(body, { level: 9 });
    const brotli = brotliCompressSync(body, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
    });
    writeFileSync(`${path}.gz`, gzip);
    writeFileSync(`${path}.br`, brotli);
    sizes.set(`/${relative(dist, path)}`, { raw: body.length, gzip: gzip.length, brotli: brotli.length });
  }

  const first = firstLoadScripts(readFileSync(join(dist, "index.html"), "utf8"));
  const firstLoad = first.reduce(
    (sum, url) => {
      const size = sizes.get(url);
      if (!size) throw new Error(`index.html loads ${url}, which the build did not write`);
      return { raw: sum.raw + size.raw, gzip: sum.gzip + size.gzip, brotli: sum.brotli + size.brotli };
    },
    { raw: 0, gzip: 0, brotli: 0 },
  );

  const out: string[] = [];
  const rows = [...sizes.entries()]
    .filter(([url]) => url.endsWith(".js") || url.endsWith(".css"))
    .sort((a, b) => b[1].gzip - a[1].gzip);
  out.push(`ui build in ${Date.now() - started} ms → ${relative(process.cwd(), dist)}\n`);
  out.push(`${"file".padEnd(44)} ${"raw".padStart(9)} ${"gzip".padStart(9)} ${"brotli".padStart(9)}  load\n`);
  for (const [url, size] of rows) {
    const when = first.includes(url) ? "first" : url.endsWith(".css") ? "first (css)" : "on demand";
    out.push(
      `${url.padEnd(44)} ${kB(size.raw).padStart(9)} ${kB(size.gzip).padStart(9)} ${kB(size.brotli).padStart(9)}  ${when}\n`,
    );
  }
  out.push(
    `first load: ${kB(firstLoad.gzip)} gzip, ${kB(firstLoad.brotli)} brotli, ${kB(firstLoad.raw)} raw JavaScript in ${first.length} file(s) (budget ${kB(FIRST_LOAD_BUDGET_BYTES)} gzip)\n`,
  );
  return {
    firstLoadGzipBytes: firstLoad.gzip,
    overBudget: firstLoad.gzip > FIRST_LOAD_BUDGET_BYTES,
    table: out.join(""),
  };
}

async function main(): Promise<void> {
  if (process.argv.includes("--if-stale") && !uiBuildIsStale()) {
    process.stdout.write(`ui build up to date → ${relative(process.cwd(), dist)}\n`);
    return;
  }
  const report = await buildUi();
  process.stdout.write(report.table);
  if (report.overBudget) {
    process.stderr.write(
      `ui build: the first load is over budget by ${kB(report.firstLoadGzipBytes - FIRST_LOAD_BUDGET_BYTES)}\n`,
    );
    process.exit(1);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`ui build failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  });
}

/**
 * Vite config of the wallet web app. `npm run dev:ui` serves it with hot reload (Preact components
 * keep their state through prefresh) and proxies the API's paths to the API (API_URL, default
 * http://127.0.0.1:3000), so the app sees one origin as it does when the API serves the build.
 * `npm run build:ui` (scripts/build-ui.ts) builds it into ui/dist and checks the first-load size.
 */
import prefresh from "@prefresh/vite";
import { defineConfig, type PluginOption } from "vite";

const api = process.env.API_URL ?? "http://127.0.0.1:3000";
const proxied = ["/v1", "/x402", "/docs", "/health", "/ready", "/ui-config.json"];

export default defineConfig({
  // prefresh returns a promise of its plugin, which Vite awaits; its types say so less precisely.
  plugins: [prefresh() as unknown as PluginOption],
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  server: {
    host: "localhost",
    port: Number(process.env.UI_DEV_PORT ?? 5173),
    proxy: Object.fromEntries(proxied.map((path) => [path, { target: api, changeOrigin: false }])),
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // The build measures the first load itself (scripts/build-ui.ts): no size warnings here.
    reportCompressedSize: false,
  },
});

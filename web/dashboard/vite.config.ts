// The dashboard's build: `npm run dashboard:build` (runtime/dashboard-build.ts) runs it.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/dashboard/",
  // Preact's automatic JSX runtime, without a plugin (GraphiQL's entry asks for React's in a pragma).
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Every asset a file of its own: the page's policy allows nothing inline, data: URLs included.
    assetsInlineLimit: 0,
    sourcemap: true,
    reportCompressedSize: false,
    // Two pages: the dashboard, and GraphiQL (served at GET /graphql to browsers).
    rollupOptions: { input: { dashboard: fileURLToPath(new URL("index.html", import.meta.url)), graphiql: fileURLToPath(new URL("graphiql.html", import.meta.url)) } },
  },
  logLevel: "warn",
});

// The dashboard's build: `npm run dashboard:build` (runtime/dashboard-build.ts) runs it.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/dashboard/",
  // Preact's automatic JSX runtime, without a plugin.
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  resolve: { alias: { react: "preact/compat", "react-dom": "preact/compat" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Every asset a file of its own: the page's policy allows nothing inline, data: URLs included.
    assetsInlineLimit: 0,
    sourcemap: true,
    reportCompressedSize: false,
  },
  logLevel: "warn",
});

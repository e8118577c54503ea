// `npm run dashboard:build`: builds the dashboard's bundle (web/dashboard/dist) with Vite.
import { buildDashboard } from "../runtime/dashboard-build.ts";

const started = Date.now();
await buildDashboard();
console.log(`dashboard built into web/dashboard/dist in ${Date.now() - started} ms`);

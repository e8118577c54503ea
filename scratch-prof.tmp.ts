import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { seedDatabase } from "./prisma/seed/index.ts";
import { createTestDatabase } from "./test/support/postgres.ts";
import { DEMO_CLIENT_ID, mintClientToken } from "./bench/support/auth.ts";
import { grantEveryReadScope } from "./bench/support/consents.ts";
import { summariseProfile } from "./bench/support/cpu-profile.ts";
import { FIVE_SUBGRAPHS_QUERY } from "./bench/support/scenarios.ts";
import { startServerChild } from "./bench/support/server-child.ts";

const db = await createTestDatabase();
try {
  await seedDatabase({ kind: "postgres", url: db.url, poolSize: 4 }, { users: 2000, seed: 42, sandboxClientSecret: "bench-sandbox-secret" });
  await grantEveryReadScope(db.url, DEMO_CLIENT_ID);
  const sql = new pg.Client({ connectionString: db.url }); await sql.connect(); await sql.query("ANALYZE"); await sql.end();
  const kek = randomBytes(32).toString("base64url");
  let token: string | undefined;
  const results: Record<string, Map<string, number>> = {};
  const N = 300;
  for (const side of ["on", "off"]) {
    const dir = mkdtempSync(join(tmpdir(), "prof-"));
    const child = await startServerChild({ databaseUrl: db.url, sandboxClientSecret: "bench-sandbox-secret", nodeFlags: ["--cpu-prof", `--cpu-prof-dir=${dir}`], env: { KEY_ENCRYPTION_KEY: kek, UNSAFE_DISABLE_SCOPE_ENFORCEMENT: side === "off" ? "true" : "false" } });
    token ??= await mintClientToken(db.url, child.config);
    const post = () => fetch(child.gatewayUrl, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ query: FIVE_SUBGRAPHS_QUERY }) }).then((r) => r.text());
    let left = 60;
    await Promise.all(Array.from({ length: 10 }, async () => { while (left-- > 0) await post(); }));
    left = N;
    const t = performance.now();
    await Promise.all(Array.from({ length: 10 }, async () => { while (left-- > 0) await post(); }));
    console.log(side, "wall ms/request", ((performance.now() - t) / N).toFixed(2));
    await child.stop();
    const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))!;
    const s = summariseProfile(join(dir, file), 3000);
    const total = N + 60;
    console.log(side, "busy ms/request", (s.busyMs / total).toFixed(2));
    const m = new Map<string, number>();
    for (const f of s.functions) m.set(f.name, f.selfMs / total);
    for (const p of s.packages) m.set(`[pkg] ${p.name}`, p.selfMs / total);
    results[side] = m;
  }
  const keys = new Set([...results.on!.keys(), ...results.off!.keys()]);
  const diffs = [...keys].map((k) => [k, (results.on!.get(k) ?? 0) - (results.off!.get(k) ?? 0)] as const).sort((a, b) => b[1] - a[1]);
  console.log("biggest increases (ms/request):");
  for (const [k, d] of diffs.slice(0, 45)) console.log(`  ${d.toFixed(3)}  ${k}`);
} finally { await db.drop(); }

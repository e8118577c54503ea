import { defineConfig } from "prisma/config";

// Only `prisma generate` reads this; migrations run offline through scripts/migrate.ts.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
});

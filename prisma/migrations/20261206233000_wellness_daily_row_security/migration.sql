-- wellness_daily (a person's daily history) is a person's rows: tenant row-level security as on
-- the other such tables (migration 20261206213000_tenant_row_security, docs/operations.md, Tenants).
ALTER TABLE "wellness_daily" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "wellness_daily" TO kamina_app USING (country = ANY ((SELECT kamina_tenants())::"Country"[])) WITH CHECK (country = ANY ((SELECT kamina_tenants())::"Country"[]));
CREATE POLICY all_tenants ON "wellness_daily" TO kamina_all_tenants USING (true) WITH CHECK (true);

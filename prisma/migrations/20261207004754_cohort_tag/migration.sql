-- CreateTable
CREATE TABLE "cohort_tag" (
    "user_id" TEXT NOT NULL,
    "country" "Country" NOT NULL,
    "tag" TEXT NOT NULL,
    "since" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "cohort_tag_pkey" PRIMARY KEY ("user_id","tag")
);

-- AlterTable: a wellness export may ask for the people of one cohort tag only (the CRM's filter).
ALTER TABLE "export_job" ADD COLUMN "cohort" TEXT;

-- CreateIndex
CREATE INDEX "cohort_tag_tag_user_id_idx" ON "cohort_tag"("tag", "user_id");

-- AddForeignKey
ALTER TABLE "cohort_tag" ADD CONSTRAINT "cohort_tag_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- cohort_tag (a person's current behavioural cohort tags, issue 21 item 2) is a person's rows:
-- tenant row-level security as on the other such tables (migration 20261206213000_tenant_row_security,
-- docs/operations.md, Tenants).
ALTER TABLE "cohort_tag" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "cohort_tag" TO kamina_app USING (country = ANY ((SELECT kamina_tenants())::"Country"[])) WITH CHECK (country = ANY ((SELECT kamina_tenants())::"Country"[]));
CREATE POLICY all_tenants ON "cohort_tag" TO kamina_all_tenants USING (true) WITH CHECK (true);

-- cohorts.read, the tags' own per-person scope: a client that could ask for alerts.read (the
-- prevention data the tags are derived from) may ask for cohorts.read too. Nothing is granted by
-- this: each person still grants it, or not, in a consent of their own.
UPDATE "partner_client"
SET "allowed_scopes" = array_append("allowed_scopes", 'cohorts.read')
WHERE 'alerts.read' = ANY("allowed_scopes") AND NOT ('cohorts.read' = ANY("allowed_scopes"));

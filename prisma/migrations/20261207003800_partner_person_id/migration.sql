-- CreateEnum
CREATE TYPE "PartnerIdKind" AS ENUM ('CUSTOMER', 'BUREAU');

-- CreateTable
CREATE TABLE "partner_person_id" (
    "id" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "country" "Country" NOT NULL,
    "kind" "PartnerIdKind" NOT NULL,
    "value" TEXT NOT NULL,
    "data_key_id" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "linked_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "partner_person_id_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "partner_person_id_user_id_idx" ON "partner_person_id"("user_id");

-- CreateIndex
CREATE INDEX "partner_person_id_data_key_id_idx" ON "partner_person_id"("data_key_id");

-- CreateIndex
CREATE UNIQUE INDEX "partner_person_id_client_id_user_id_kind_key" ON "partner_person_id"("client_id", "user_id", "kind");

-- CreateIndex
CREATE UNIQUE INDEX "partner_person_id_client_id_kind_digest_key" ON "partner_person_id"("client_id", "kind", "digest");

-- AddForeignKey
ALTER TABLE "partner_person_id" ADD CONSTRAINT "partner_person_id_client_id_fkey" FOREIGN KEY ("client_id") REFERENCES "partner_client"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "partner_person_id" ADD CONSTRAINT "partner_person_id_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A partner's ids for a person are the person's rows: tenant row-level security as on the other
-- such tables (migration 20261206213000_tenant_row_security, docs/operations.md, Tenants).
ALTER TABLE "partner_person_id" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "partner_person_id" TO kamina_app USING (country = ANY ((SELECT kamina_tenants())::"Country"[])) WITH CHECK (country = ANY ((SELECT kamina_tenants())::"Country"[]));
CREATE POLICY all_tenants ON "partner_person_id" TO kamina_all_tenants USING (true) WITH CHECK (true);

-- CreateEnum
CREATE TYPE "ExportStatus" AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'EXPIRED');

-- CreateTable
CREATE TABLE "export_job" (
    "id" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "format" TEXT NOT NULL,
    "scopes" TEXT[],
    "status" "ExportStatus" NOT NULL DEFAULT 'QUEUED',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lease_owner" TEXT,
    "leased_until" TIMESTAMPTZ(3),
    "rows" INTEGER,
    "bytes" BIGINT,
    "file_key" TEXT,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3),

    CONSTRAINT "export_job_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "export_job_status_created_at_idx" ON "export_job"("status", "created_at");

-- CreateIndex
CREATE INDEX "export_job_client_id_created_at_idx" ON "export_job"("client_id", "created_at");

-- CreateTable
CREATE TABLE "trusted_document" (
    "client_id" TEXT NOT NULL,
    "sha256" CHAR(64) NOT NULL,
    "document" TEXT NOT NULL,
    "name" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "trusted_document_pkey" PRIMARY KEY ("client_id","sha256")
);

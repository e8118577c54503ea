-- CreateTable
CREATE TABLE "dpop_proof" (
    "jti" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "dpop_proof_pkey" PRIMARY KEY ("jti")
);

-- CreateIndex
CREATE INDEX "dpop_proof_expires_at_idx" ON "dpop_proof"("expires_at");

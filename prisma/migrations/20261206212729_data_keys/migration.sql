-- AlterTable
ALTER TABLE "coach_transcript" ADD COLUMN     "data_key_id" TEXT;

-- CreateTable
CREATE TABLE "data_key" (
    "id" TEXT NOT NULL,
    "country" "Country" NOT NULL,
    "kek_id" TEXT NOT NULL,
    "wrapped_key" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "rewrapped_at" TIMESTAMPTZ(3),
    "retired_at" TIMESTAMPTZ(3),

    CONSTRAINT "data_key_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "data_key_country_created_at_idx" ON "data_key"("country", "created_at" DESC);

-- CreateIndex
CREATE INDEX "coach_transcript_data_key_id_idx" ON "coach_transcript"("data_key_id");

-- One active (unretired) data key per tenant. A partial index is not declared in the schema.
CREATE UNIQUE INDEX "data_key_one_active_idx" ON "data_key" ("country") WHERE "retired_at" IS NULL;

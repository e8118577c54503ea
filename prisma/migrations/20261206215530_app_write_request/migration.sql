-- CreateTable
CREATE TABLE "app_write_request" (
    "user_id" TEXT NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "request_hash" CHAR(64) NOT NULL,
    "status" INTEGER NOT NULL,
    "response" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "app_write_request_pkey" PRIMARY KEY ("user_id","idempotency_key")
);

-- CreateIndex
CREATE INDEX "app_write_request_created_at_idx" ON "app_write_request"("created_at");

-- AddForeignKey
ALTER TABLE "app_write_request" ADD CONSTRAINT "app_write_request_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

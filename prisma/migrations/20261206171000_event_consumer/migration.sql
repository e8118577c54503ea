-- CreateTable
CREATE TABLE "event_consumer" (
    "name" TEXT NOT NULL,
    "position" BIGINT NOT NULL DEFAULT 0,
    "lease_owner" TEXT,
    "leased_until" TIMESTAMPTZ(3),

    CONSTRAINT "event_consumer_pkey" PRIMARY KEY ("name")
);

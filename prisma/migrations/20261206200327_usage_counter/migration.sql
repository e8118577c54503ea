-- CreateTable
CREATE TABLE "usage_counter" (
    "client_id" TEXT NOT NULL,
    "product" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "count" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "usage_counter_pkey" PRIMARY KEY ("client_id","product","day")
);

-- CreateTable
CREATE TABLE "usage_quota" (
    "client_id" TEXT NOT NULL,
    "product" TEXT NOT NULL,
    "monthly_limit" BIGINT NOT NULL,

    CONSTRAINT "usage_quota_pkey" PRIMARY KEY ("client_id","product")
);

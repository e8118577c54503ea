-- CreateTable
CREATE TABLE "scheduled_run" (
    "job" TEXT NOT NULL,
    "run_date" DATE NOT NULL,
    "lease_owner" TEXT NOT NULL,
    "leased_until" TIMESTAMPTZ(3) NOT NULL,
    "last_user_id" TEXT NOT NULL DEFAULT '',
    "users_done" INTEGER NOT NULL DEFAULT 0,
    "alerts_raised" INTEGER NOT NULL DEFAULT 0,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "scheduled_run_pkey" PRIMARY KEY ("job","run_date")
);

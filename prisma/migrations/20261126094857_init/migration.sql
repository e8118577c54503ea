-- CreateEnum
CREATE TYPE "Country" AS ENUM ('EC', 'MX', 'PE', 'CO', 'CL');

-- CreateEnum
CREATE TYPE "PartnerClientStatus" AS ENUM ('ACTIVE', 'SUSPENDED');

-- CreateEnum
CREATE TYPE "ConsentStatus" AS ENUM ('AWAITING_AUTHORISATION', 'AUTHORISED', 'REJECTED', 'REVOKED', 'EXPIRED');

-- CreateEnum
CREATE TYPE "WellnessBand" AS ENUM ('GREEN', 'AMBER', 'RED');

-- CreateEnum
CREATE TYPE "Severity" AS ENUM ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL');

-- CreateEnum
CREATE TYPE "DebtType" AS ENUM ('CREDIT_CARD', 'INSTALLMENT', 'PERSONAL_LOAN', 'MORTGAGE', 'AUTO_LOAN', 'MICROCREDIT', 'PAYDAY');

-- CreateEnum
CREATE TYPE "DebtStatus" AS ENUM ('CURRENT', 'LATE', 'DEFAULTED', 'PAID_OFF');

-- CreateEnum
CREATE TYPE "PaymentStatus" AS ENUM ('ON_TIME', 'LATE', 'MISSED', 'PENDING');

-- CreateEnum
CREATE TYPE "IncomeKind" AS ENUM ('RECURRING', 'VARIABLE');

-- CreateEnum
CREATE TYPE "GoalStatus" AS ENUM ('ACTIVE', 'ACHIEVED', 'ABANDONED');

-- CreateEnum
CREATE TYPE "AlertStatus" AS ENUM ('OPEN', 'ACKNOWLEDGED', 'RESOLVED');

-- CreateEnum
CREATE TYPE "WebhookEndpointStatus" AS ENUM ('ACTIVE', 'DISABLED');

-- CreateEnum
CREATE TYPE "DeliveryStatus" AS ENUM ('PENDING', 'DELIVERED', 'FAILED', 'DEAD');

-- CreateTable
CREATE TABLE "partner_client" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "status" "PartnerClientStatus" NOT NULL DEFAULT 'ACTIVE',
    "countries" "Country"[],
    "allowed_scopes" TEXT[],
    "client_scopes" TEXT[],
    "sandbox" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "partner_client_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "app_user" (
    "id" TEXT NOT NULL,
    "country" "Country" NOT NULL,
    "national_id_digest" TEXT,
    "household_size" INTEGER NOT NULL DEFAULT 1,
    "cohort_tags" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "app_user_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "consent_text_version" (
    "version" TEXT NOT NULL,
    "language" TEXT NOT NULL DEFAULT 'es',
    "sha256" TEXT NOT NULL,
    "published_at" TIMESTAMPTZ(3) NOT NULL,
    "retired_at" TIMESTAMPTZ(3),

    CONSTRAINT "consent_text_version_pkey" PRIMARY KEY ("version")
);

-- CreateTable
CREATE TABLE "consent" (
    "id" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "country" "Country" NOT NULL,
    "status" "ConsentStatus" NOT NULL,
    "scopes" TEXT[],
    "consent_text_version" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "authorised_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "revocation_reason" TEXT,

    CONSTRAINT "consent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "consent_event" (
    "id" BIGSERIAL NOT NULL,
    "consent_id" TEXT NOT NULL,
    "status" "ConsentStatus" NOT NULL,
    "reason" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "consent_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "refresh_token" (
    "id" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "family_id" TEXT NOT NULL,
    "consent_id" TEXT NOT NULL,
    "dpop_jkt" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "refresh_token_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "signing_key" (
    "kid" TEXT NOT NULL,
    "alg" TEXT NOT NULL,
    "public_jwk" JSONB NOT NULL,
    "private_jwe" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "active_from" TIMESTAMPTZ(3) NOT NULL,
    "retired_at" TIMESTAMPTZ(3),

    CONSTRAINT "signing_key_pkey" PRIMARY KEY ("kid")
);

-- CreateTable
CREATE TABLE "revoked_token" (
    "jti" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "revoked_token_pkey" PRIMARY KEY ("jti")
);

-- CreateTable
CREATE TABLE "wellness_snapshot" (
    "id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "country" "Country" NOT NULL,
    "snapshot_date" DATE NOT NULL,
    "score" INTEGER NOT NULL,
    "band" "WellnessBand" NOT NULL,
    "trend_30d" INTEGER NOT NULL,
    "factors" JSONB NOT NULL,
    "action_plan" JSONB NOT NULL,
    "computed_at" TIMESTAMPTZ(3) NOT NULL,
    "next_review_at" DATE NOT NULL,

    CONSTRAINT "wellness_snapshot_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "savings_goal" (
    "id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "country" "Country" NOT NULL,
    "kind" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "target_amount" DECIMAL(14,2) NOT NULL,
    "current_amount" DECIMAL(14,2) NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "target_date" DATE,
    "status" "GoalStatus" NOT NULL DEFAULT 'ACTIVE',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "savings_goal_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "debt" (
    "id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "country" "Country" NOT NULL,
    "issuer" TEXT NOT NULL,
    "type" "DebtType" NOT NULL,
    "principal" DECIMAL(14,2) NOT NULL,
    "balance" DECIMAL(14,2) NOT NULL,
    "credit_limit" DECIMAL(14,2),
    "minimum_payment" DECIMAL(14,2) NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "apr" DECIMAL(7,4) NOT NULL,
    "due_date" DATE NOT NULL,
    "status" "DebtStatus" NOT NULL,
    "opened_at" DATE NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "debt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "debt_payment" (
    "id" BIGSERIAL NOT NULL,
    "debt_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "country" "Country" NOT NULL,
    "due_date" DATE NOT NULL,
    "amount_due" DECIMAL(14,2) NOT NULL,
    "amount_paid" DECIMAL(14,2) NOT NULL,
    "paid_at" DATE,
    "status" "PaymentStatus" NOT NULL,

    CONSTRAINT "debt_payment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "expense" (
    "id" BIGSERIAL NOT NULL,
    "user_id" TEXT NOT NULL,
    "country" "Country" NOT NULL,
    "amount" DECIMAL(14,2) NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "mcc" CHAR(4) NOT NULL,
    "category" TEXT NOT NULL,
    "merchant" TEXT NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "expense_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "income_stream" (
    "id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "country" "Country" NOT NULL,
    "source" TEXT NOT NULL,
    "kind" "IncomeKind" NOT NULL,
    "monthly_amount" DECIMAL(14,2) NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "started_at" DATE NOT NULL,
    "ended_at" DATE,

    CONSTRAINT "income_stream_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "coach_session" (
    "id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "country" "Country" NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3) NOT NULL,
    "intent" TEXT NOT NULL,
    "sentiment" DECIMAL(4,3) NOT NULL,
    "message_count" INTEGER NOT NULL,

    CONSTRAINT "coach_session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "coach_transcript" (
    "session_id" TEXT NOT NULL,
    "country" "Country" NOT NULL,
    "text" TEXT NOT NULL,

    CONSTRAINT "coach_transcript_pkey" PRIMARY KEY ("session_id")
);

-- CreateTable
CREATE TABLE "alert" (
    "id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "country" "Country" NOT NULL,
    "type" TEXT NOT NULL,
    "risk_band" "WellnessBand" NOT NULL,
    "severity" "Severity" NOT NULL,
    "contributing_factors" TEXT[],
    "suggested_action" TEXT NOT NULL,
    "rule_id" TEXT,
    "status" "AlertStatus" NOT NULL DEFAULT 'OPEN',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "acknowledged_at" TIMESTAMPTZ(3),
    "resolved_at" TIMESTAMPTZ(3),

    CONSTRAINT "alert_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox_event" (
    "id" BIGSERIAL NOT NULL,
    "topic" TEXT NOT NULL,
    "aggregate_id" TEXT NOT NULL,
    "country" "Country" NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMPTZ(3),

    CONSTRAINT "outbox_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_endpoint" (
    "id" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "secret_encrypted" TEXT NOT NULL,
    "events" TEXT[],
    "status" "WebhookEndpointStatus" NOT NULL DEFAULT 'ACTIVE',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_endpoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_delivery" (
    "id" TEXT NOT NULL,
    "endpoint_id" TEXT NOT NULL,
    "event_id" BIGINT NOT NULL,
    "status" "DeliveryStatus" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL,
    "last_status_code" INTEGER,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_delivery_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_event" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "action" TEXT NOT NULL,
    "request_id" TEXT,
    "client_id" TEXT,
    "user_id" TEXT,
    "consent_id" TEXT,
    "country" "Country",
    "scopes" TEXT[],
    "fields" TEXT[],
    "detail" JSONB,

    CONSTRAINT "audit_event_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "app_user_country_id_idx" ON "app_user"("country", "id");

-- CreateIndex
CREATE INDEX "consent_client_id_status_user_id_idx" ON "consent"("client_id", "status", "user_id");

-- CreateIndex
CREATE INDEX "consent_user_id_status_idx" ON "consent"("user_id", "status");

-- CreateIndex
CREATE INDEX "consent_event_consent_id_at_idx" ON "consent_event"("consent_id", "at");

-- CreateIndex
CREATE UNIQUE INDEX "refresh_token_token_hash_key" ON "refresh_token"("token_hash");

-- CreateIndex
CREATE INDEX "refresh_token_family_id_idx" ON "refresh_token"("family_id");

-- CreateIndex
CREATE INDEX "refresh_token_consent_id_idx" ON "refresh_token"("consent_id");

-- CreateIndex
CREATE INDEX "revoked_token_expires_at_idx" ON "revoked_token"("expires_at");

-- CreateIndex
CREATE INDEX "wellness_snapshot_band_user_id_idx" ON "wellness_snapshot"("band", "user_id");

-- CreateIndex
CREATE UNIQUE INDEX "wellness_snapshot_user_id_snapshot_date_key" ON "wellness_snapshot"("user_id", "snapshot_date");

-- CreateIndex
CREATE INDEX "savings_goal_user_id_idx" ON "savings_goal"("user_id");

-- CreateIndex
CREATE INDEX "debt_user_id_status_idx" ON "debt"("user_id", "status");

-- CreateIndex
CREATE INDEX "debt_payment_debt_id_due_date_idx" ON "debt_payment"("debt_id", "due_date");

-- CreateIndex
CREATE INDEX "debt_payment_user_id_due_date_idx" ON "debt_payment"("user_id", "due_date");

-- CreateIndex
CREATE INDEX "expense_user_id_occurred_at_id_idx" ON "expense"("user_id", "occurred_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "expense_user_id_category_occurred_at_idx" ON "expense"("user_id", "category", "occurred_at" DESC);

-- CreateIndex
CREATE INDEX "income_stream_user_id_idx" ON "income_stream"("user_id");

-- CreateIndex
CREATE INDEX "coach_session_user_id_started_at_idx" ON "coach_session"("user_id", "started_at" DESC);

-- CreateIndex
CREATE INDEX "alert_user_id_created_at_idx" ON "alert"("user_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "alert_user_id_type_created_at_idx" ON "alert"("user_id", "type", "created_at" DESC);

-- CreateIndex
CREATE INDEX "outbox_event_published_at_id_idx" ON "outbox_event"("published_at", "id");

-- CreateIndex
CREATE INDEX "webhook_endpoint_client_id_idx" ON "webhook_endpoint"("client_id");

-- CreateIndex
CREATE INDEX "webhook_delivery_status_next_attempt_at_idx" ON "webhook_delivery"("status", "next_attempt_at");

-- CreateIndex
CREATE UNIQUE INDEX "webhook_delivery_endpoint_id_event_id_key" ON "webhook_delivery"("endpoint_id", "event_id");

-- CreateIndex
CREATE INDEX "audit_event_consent_id_at_idx" ON "audit_event"("consent_id", "at");

-- CreateIndex
CREATE INDEX "audit_event_client_id_at_idx" ON "audit_event"("client_id", "at");

-- AddForeignKey
ALTER TABLE "consent" ADD CONSTRAINT "consent_client_id_fkey" FOREIGN KEY ("client_id") REFERENCES "partner_client"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "consent" ADD CONSTRAINT "consent_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "consent" ADD CONSTRAINT "consent_consent_text_version_fkey" FOREIGN KEY ("consent_text_version") REFERENCES "consent_text_version"("version") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "consent_event" ADD CONSTRAINT "consent_event_consent_id_fkey" FOREIGN KEY ("consent_id") REFERENCES "consent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "refresh_token" ADD CONSTRAINT "refresh_token_consent_id_fkey" FOREIGN KEY ("consent_id") REFERENCES "consent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "wellness_snapshot" ADD CONSTRAINT "wellness_snapshot_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "savings_goal" ADD CONSTRAINT "savings_goal_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "debt" ADD CONSTRAINT "debt_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "debt_payment" ADD CONSTRAINT "debt_payment_debt_id_fkey" FOREIGN KEY ("debt_id") REFERENCES "debt"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "debt_payment" ADD CONSTRAINT "debt_payment_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "expense" ADD CONSTRAINT "expense_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "income_stream" ADD CONSTRAINT "income_stream_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "coach_session" ADD CONSTRAINT "coach_session_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "coach_transcript" ADD CONSTRAINT "coach_transcript_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "coach_session"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert" ADD CONSTRAINT "alert_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_endpoint" ADD CONSTRAINT "webhook_endpoint_client_id_fkey" FOREIGN KEY ("client_id") REFERENCES "partner_client"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_delivery" ADD CONSTRAINT "webhook_delivery_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

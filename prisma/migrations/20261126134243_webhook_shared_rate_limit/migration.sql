-- AlterTable
ALTER TABLE "webhook_endpoint" ADD COLUMN     "rate_tat" TIMESTAMPTZ(3);

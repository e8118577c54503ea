-- AlterTable
ALTER TABLE "partner_client" ADD COLUMN     "tokens_not_before" TIMESTAMPTZ(3);

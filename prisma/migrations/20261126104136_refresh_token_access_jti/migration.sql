-- AlterTable
ALTER TABLE "refresh_token" ADD COLUMN     "access_expires_at" TIMESTAMPTZ(3),
ADD COLUMN     "access_jti" TEXT;

-- app_user.cohort_tags was an older notion of cohorts, written only by the seed and read by
-- nothing. The cohorts partners read are computed by the prevention evaluation into cohort_tag
-- (domain/cohorts, docs/cohorts.md).
-- AlterTable
ALTER TABLE "app_user" DROP COLUMN "cohort_tags";

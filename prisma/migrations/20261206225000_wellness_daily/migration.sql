-- CreateTable
CREATE TABLE "wellness_daily" (
    "user_id" TEXT NOT NULL,
    "country" "Country" NOT NULL,
    "year" INTEGER NOT NULL,
    "scores" SMALLINT[],

    CONSTRAINT "wellness_daily_pkey" PRIMARY KEY ("user_id","year")
);

-- AddForeignKey
ALTER TABLE "wellness_daily" ADD CONSTRAINT "wellness_daily_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

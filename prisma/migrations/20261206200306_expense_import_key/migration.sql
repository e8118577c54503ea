-- AlterTable
ALTER TABLE "expense" ADD COLUMN     "import_key" CHAR(64);

-- CreateIndex
CREATE UNIQUE INDEX "expense_import_key_key" ON "expense"("import_key");

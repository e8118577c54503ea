// Imported expenses are written here, beside the expenses' other queries.
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { Country } from "../../generated/prisma/enums.ts";
import { HOUSEHOLD_CHANGED_TOPIC, householdChangedEvent } from "../../domain/household/household-change-event.ts";

export interface ImportedExpenseRow {
  importKey: string;
  amount: string;
  currency: string;
  mcc: string;
  category: string;
  merchant: string;
  occurredAt: Date;
}

/**
 * Writes a file's expenses in one transaction (a large file takes several statements): all or
 * none. A row whose import key is there already (the same file imported before) is left as it
 * is. Answers how many were added. An import that added rows announces itself on the outbox
 * (`household.changed`, in the same transaction), as every write of the app's write path does.
 */
export async function insertImportedExpenses(prisma: PrismaClient, userId: string, country: Country, rows: readonly ImportedExpenseRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  return prisma.$transaction(async (tx) => {
    const { count } = await tx.expense.createMany({ data: rows.map((row) => ({ ...row, userId, country })), skipDuplicates: true });
    if (count > 0) {
      const payload = householdChangedEvent(userId, "import", String(count), "created");
      await tx.outboxEvent.create({ data: { topic: HOUSEHOLD_CHANGED_TOPIC, aggregateId: userId, country, payload: { ...payload } } });
    }
    return count;
  });
}

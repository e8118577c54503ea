// The monthly invoice of a client's usage: one line per product with its count, unit price and
// amount, then the total. Prices come from price-list.json (decimal strings, at most four
// places); money is never a float: amounts are counted in ten-thousandths as bigint.
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { PrismaClient } from "../database/database.ts";

const SCALE = 4;
const UNIT = 10n ** BigInt(SCALE);

const priceList = z.object({
  currency: z.string().regex(/^[A-Z]{3}$/),
  /** By product; `rest:*` prices every REST route without a price of its own. */
  prices: z.record(z.string(), z.string().regex(/^\d+(\.\d{1,4})?$/, "a price is a decimal string with at most four places")),
});

export type PriceList = z.infer<typeof priceList>;

/** The price list shipped with the gateway, read and checked once. */
export const PRICE_LIST: PriceList = priceList.parse(JSON.parse(readFileSync(new URL("./price-list.json", import.meta.url), "utf8")));

export interface InvoiceLine {
  product: string;
  count: bigint;
  /** Decimal string, four places. */
  unitPrice: string;
  amount: string;
}

export interface Invoice {
  /** YYYY-MM. */
  month: string;
  currency: string;
  lines: InvoiceLine[];
  count: bigint;
  total: string;
}

/** The client's invoice for `month` (YYYY-MM, UTC): the products it used, by name. */
export async function monthlyInvoice(prisma: PrismaClient, clientId: string, month: string, prices: PriceList = PRICE_LIST): Promise<Invoice> {
  const first = `${month}-01`;
  const rows = await prisma.$queryRaw<{ product: string; count: bigint }[]>`
    SELECT product, sum(count)::int8 AS count FROM usage_counter
    WHERE client_id = ${clientId} AND day >= ${first}::date AND day < (${first}::date + interval '1 month')::date
    GROUP BY product ORDER BY product`;
  let total = 0n;
  let count = 0n;
  const lines = rows.map((row) => {
    const unit = units(priceOf(prices, row.product));
    const amount = unit * row.count;
    total += amount;
    count += row.count;
    return { product: row.product, count: row.count, unitPrice: decimal(unit), amount: decimal(amount) };
  });
  return { month, currency: prices.currency, lines, count, total: decimal(total) };
}

function priceOf(prices: PriceList, product: string): string {
  const price = prices.prices[product] ?? (product.startsWith("rest:") ? prices.prices["rest:*"] : undefined);
  // A product without a price is a configuration error, not a free call.
  if (price === undefined) throw new Error(`price-list.json has no price for the product ${product}`);
  return price;
}

function units(price: string): bigint {
  const [whole, fraction = ""] = price.split(".");
  return BigInt(whole!) * UNIT + BigInt(fraction.padEnd(SCALE, "0"));
}

function decimal(value: bigint): string {
  return `${value / UNIT}.${(value % UNIT).toString().padStart(SCALE, "0")}`;
}

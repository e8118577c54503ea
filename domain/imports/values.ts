// The cells every export writes its own way: amounts (decimal comma or point, thousands marks,
// a currency symbol or code, a minus sign, a trailing minus or parentheses) and dates (day or
// month first, `/`, `.` or `-`, ISO always). Pure: a cell in, a value or undefined out.

export interface ParsedAmount {
  /** In hundredths, signed: negative is money out. */
  cents: bigint;
  /** The ISO code a symbol or code beside the number names, when it names one. */
  currency?: string;
  /** `$` alone: a dollar or peso of the person's own country. */
  dollarSign?: boolean;
}

/** Symbols exports write beside amounts; `$` is left to the person's currency. */
const SYMBOLS: Record<string, string> = {
  "€": "EUR",
  "£": "GBP",
  "S/": "PEN",
  "S/.": "PEN",
  "US$": "USD",
  U$S: "USD",
  R$: "BRL",
  "¥": "JPY",
  "₹": "INR",
  COL$: "COP",
  MX$: "MXN",
  CLP$: "CLP",
};

/** Largest amount a Decimal(14, 2) holds, in hundredths. */
const MAX_CENTS = 10n ** 14n - 1n;

/**
 * An amount as an export writes it. `decimalComma`: the file's locale writes `1.234,56` (its
 * delimiter is `;`); otherwise a lone comma followed by exactly three digits is a thousands mark
 * (`1,234`) and followed by one or two a decimal mark (`12,5`).
 */
export function parseAmount(cell: string, decimalComma: boolean): ParsedAmount | undefined {
  let text = cell.replace(/[\s\u00a0\u202f]/g, "");
  if (text === "") return undefined;
  let negative = false;
  if (/^\(.*\)$/.test(text)) [negative, text] = [true, text.slice(1, -1)];
  let currency: string | undefined;
  let dollarSign = false;
  const symbol = (raw: string): boolean => {
    if (raw === "") return true;
    if (raw === "$") return (dollarSign = true);
    const named = SYMBOLS[raw] ?? SYMBOLS[raw.toUpperCase()] ?? (/^[A-Z]{3}$/.test(raw) ? raw : undefined);
    if (!named) return false;
    currency = named;
    return true;
  };
  const match = /^([+-]?)([^\d.,+-]*)([+-]?)([\d.,']+)([^\d.,+-]*)([+-]?)$/.exec(text);
  if (!match) return undefined;
  const [, signBefore, prefix, signAfterSymbol, digits, suffix, trailingSign] = match as unknown as string[];
  if ([signBefore, signAfterSymbol, trailingSign].filter((sign) => sign !== "").length > 1) return undefined;
  if (signBefore === "-" || signAfterSymbol === "-" || trailingSign === "-") negative = !negative;
  if (!symbol(prefix!) || !symbol(suffix!) || (prefix !== "" && suffix !== "")) return undefined;
  const plain = withDecimalPoint(digits!.replace(/'/g, ""), decimalComma);
  if (plain === undefined) return undefined;
  const [whole = "0", fraction = ""] = plain.split(".");
  const cents = BigInt(whole) * 100n + BigInt(fraction.padEnd(2, "0"));
  if (cents > MAX_CENTS) return undefined;
  return { cents: negative ? -cents : cents, ...(currency ? { currency } : {}), ...(dollarSign ? { dollarSign } : {}) };
}

/** `1.234,56` / `1,234.56` / `12,5` as `1234.56` / `1234.56` / `12.5`; undefined when the marks contradict. */
function withDecimalPoint(digits: string, decimalComma: boolean): string | undefined {
  const lastDot = digits.lastIndexOf(".");
  const lastComma = digits.lastIndexOf(",");
  let decimal: string | undefined;
  let thousands: string | undefined;
  if (lastDot !== -1 && lastComma !== -1) {
    decimal = lastDot > lastComma ? "." : ",";
    thousands = decimal === "." ? "," : ".";
  } else if (lastComma !== -1) {
    if (decimalComma || !/^\d{1,3}(,\d{3})+$/.test(digits)) decimal = ",";
    else thousands = ",";
  } else if (lastDot !== -1) {
    if (decimalComma && /^\d{1,3}(\.\d{3})+$/.test(digits)) thousands = ".";
    else decimal = ".";
  }
  const parts = decimal ? digits.split(decimal) : [digits];
  if (parts.length > 2) return undefined;
  let [whole = ""] = parts;
  const fraction = parts[1];
  if (thousands && whole.includes(thousands)) {
    // Thousands marks, where written, group by three.
    if (!new RegExp(`^\\d{1,3}(\\${thousands}\\d{3})+$`).test(whole)) return undefined;
    whole = whole.split(thousands).join("");
  }
  if (!/^\d+$/.test(whole) || (fraction !== undefined && !/^\d{1,2}$/.test(fraction))) return undefined;
  return fraction === undefined ? whole : `${whole}.${fraction}`;
}

/** `12.50` from hundredths (the magnitude: signs are the caller's). */
export function decimalOf(cents: bigint): string {
  const magnitude = cents < 0n ? -cents : cents;
  return `${magnitude / 100n}.${String(magnitude % 100n).padStart(2, "0")}`;
}

export type DateOrder = "dmy" | "mdy";

/**
 * A calendar day as `YYYY-MM-DD`: ISO (`2026-03-05`, a time after it ignored) always, else day
 * and month in the file's order with `/`, `.` or `-` and a year of four digits (or two: 20yy).
 */
export function parseDay(cell: string, order: DateOrder): string | undefined {
  const text = cell.trim();
  let year: number;
  let month: number;
  let day: number;
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$/.exec(text);
  const local = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?:[ T].*)?$/.exec(text);
  if (iso) [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  else if (local) {
    const [first, second] = [Number(local[1]), Number(local[2])];
    [day, month] = order === "dmy" ? [first, second] : [second, first];
    year = local[3]!.length === 2 ? 2000 + Number(local[3]) : Number(local[3]);
  } else return undefined;
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || year < 1970) return undefined;
  return date.toISOString().slice(0, 10);
}

// Text a spreadsheet would run as a formula (CSV injection, OWASP): a cell that starts with
// `=`, `+`, `-`, `@`, a tab or a carriage return is written behind a single quote, which
// spreadsheets show as text. Only for free text: numbers and codes are written as they are.
const FORMULA_START = /^[=+\-@\t\r]/;

export function spreadsheetSafeText(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

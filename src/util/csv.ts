/**
 * The one CSV cell encoder every CSV the system writes goes through (inventory, readings, intervals,
 * invoices). Two jobs: RFC 4180 quoting, and neutralising spreadsheet formulas. A cell that starts
 * with = + - @ tab or CR is run as a formula by Excel, LibreOffice and Sheets (`=cmd|' /C calc'!A1`,
 * `@SUM(...)`), so such text gets a leading single quote (OWASP "CSV injection"). Numbers such as
 * -12.5 or +3 are left alone so they stay numbers in the sheet.
 */

/** Text a spreadsheet would read as a formula; leading quotes count, so a quote we add can be undone exactly. */
const FORMULA_START = /^'*[=+\-@\t\r]/;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

const needsNeutralising = (s: string): boolean => FORMULA_START.test(s) && !NUMBER.test(s);

/** `=1+1` -> `'=1+1`; `-12.5` and ordinary text unchanged. */
export function neutraliseFormula(text: string): string {
  return needsNeutralising(text) ? `'${text}` : text;
}

/**
 * Undoes neutraliseFormula when a CSV the system wrote is read back (inventory import), so an export
 * followed by an import changes nothing. A quote the user typed before ordinary text is kept.
 */
export function restoreFormulaText(cell: string): string {
  return cell.startsWith("'") && needsNeutralising(cell.slice(1)) ? cell.slice(1) : cell;
}

/** One cell: numbers as they are, text neutralised, then quoted when it holds a comma, quote or line break. */
export function csvCell(value: string | number): string {
  const s = typeof value === 'number' ? String(value) : neutraliseFormula(value);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** One line of cells, without the line end. */
export const csvRow = (cells: readonly (string | number)[]): string => cells.map(csvCell).join(',');

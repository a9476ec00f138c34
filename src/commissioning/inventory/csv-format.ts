import { csvCell, csvRow } from '../../util/csv.js';

/**
 * RFC 4180 CSV, small enough to read in one sitting (no CSV package is a dependency). Fields with a
 * comma, quote or line break are quoted and quotes doubled. Reading also accepts LF and CR line
 * ends and a UTF-8 byte order mark, which spreadsheet exports use.
 */
export interface CsvRecord {
  readonly fields: string[];
  /** 1-based line where the record starts (a quoted field may span lines). */
  readonly line: number;
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

export const CSV_EOL = '\r\n';

/** Quoting and formula neutralising are the shared encoder's (src/util/csv.ts), like every CSV the system writes. */
export const csvField = (s: string): string => csvCell(s);

export const csvLine = (fields: readonly string[]): string => csvRow(fields);

export function parseCsv(text: string): CsvRecord[] {
  const s = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let line = 1;
  let start = 1;
  let i = 0;
  const endOfLine = (): number => (s[i] === '\r' && s[i + 1] === '\n' ? 2 : s[i] === '\n' || s[i] === '\r' ? 1 : 0);
  while (i <= s.length) {
    let field = '';
    if (s[i] === '"') {
      const opened = line;
      i++;
      for (;;) {
        if (i >= s.length) throw new CsvSyntaxError(opened, 'a quoted field is never closed; add the closing quote (")');
        if (s[i] === '"' && s[i + 1] !== '"') break;
        // A doubled quote is one quote; a line break inside quotes is kept as written.
        const eol = endOfLine();
        const width = s[i] === '"' ? 2 : Math.max(eol, 1);
        if (eol > 0) line++;
        field += s[i] === '"' ? '"' : s.slice(i, i + width);
        i += width;
      }
      i++;
      if (i < s.length && s[i] !== ',' && endOfLine() === 0)
        throw new CsvSyntaxError(line, `text after a closing quote; quote the whole field and write a quote inside it as ""`);
    } else {
      while (i < s.length && s[i] !== ',' && endOfLine() === 0) {
        if (s[i] === '"') throw new CsvSyntaxError(line, 'a quote inside an unquoted field; quote the whole field and write the quote as ""');
        field += s.charAt(i);
        i++;
      }
    }
    fields.push(field);
    if (s[i] === ',') {
      i++;
      continue;
    }
    const eol = endOfLine();
    // The last line may or may not end in a line break; either way it is one record.
    if (eol > 0 || i >= s.length) {
      if (!(i >= s.length && fields.length === 1 && fields[0] === '' && s[i - 1] !== '"')) records.push({ fields, line: start });
      if (i >= s.length) break;
      i += eol;
      line++;
      start = line;
      fields = [];
    }
  }
  return records;
}

import { h, type Attrs, type Child } from '../dom.js';

/** A column of a list table: its heading and how to draw one row's cell. */
export interface Column<T> {
  readonly label: string;
  readonly cell: (row: T) => Child | Child[];
  /** Right-aligned figures. */
  readonly num?: boolean;
  /** A class for the cell (e.g. to hide a minor column on a phone). */
  readonly class?: string;
  /** For a first column holding a bare number: a phone's card heading reads "Address 8", not "8". */
  readonly labelOnCard?: boolean;
}

export interface TableOptions<T> {
  readonly caption: string;
  readonly columns: ReadonlyArray<Column<T>>;
  readonly testId: string;
  /** Attributes of each row: its data-testid, data-key, a class for highlighting. */
  readonly rowAttrs: (row: T) => Attrs;
  /** A link in the row: clicking anywhere on the row follows it (easier with a thumb). */
  readonly rowHref?: (row: T) => string;
  /** The heading row, when the caller draws its own (sortable headings). */
  readonly head?: HTMLTableSectionElement;
}

/**
 * A table of records. On a wide screen it is a table; below 640 px each row becomes a card whose
 * cells carry their column's name (CSS in app.css, `table.list`), so nothing scrolls sideways.
 */
export function listTable<T>(o: TableOptions<T>, rows: readonly T[]): { el: HTMLElement; body: HTMLTableSectionElement } {
  const body = h('tbody');
  const head = o.head ?? h('thead', {}, h('tr', {}, ...o.columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label))));
  const table = h('table', { class: 'list', 'data-testid': o.testId }, h('caption', { class: 'visually-hidden' }, o.caption), head, body);
  fillRows(o, body, rows);
  return { el: h('div', { class: 'table-wrap' }, table), body };
}

export function fillRows<T>(o: TableOptions<T>, body: HTMLTableSectionElement, rows: readonly T[]): void {
  body.replaceChildren(...rows.map((r) => row(o, r)));
}

function row<T>(o: TableOptions<T>, r: T): HTMLTableRowElement {
  const [first, ...rest] = o.columns;
  const tr = h(
    'tr',
    o.rowAttrs(r),
    first ? h('th', { scope: 'row', class: first.class ?? null, 'data-card-label': first.labelOnCard ? first.label : null }, ...cellChildren(first, r)) : null,
    // One wrapper per cell, so the phone layout puts the whole value beside its column name.
    ...rest.map((c) =>
      h('td', { class: [c.num ? 'num' : '', c.class ?? ''].join(' ').trim() || null, 'data-label': c.label }, h('div', {}, ...cellChildren(c, r))),
    ),
  );
  const target = o.rowHref?.(r);
  if (target) {
    tr.classList.add('clickable');
    tr.addEventListener('click', (ev) => {
      if (ev.target instanceof Element && ev.target.closest('a, button, input, select, label')) return;
      location.hash = target;
    });
  }
  return tr;
}

function cellChildren<T>(c: Column<T>, r: T): Child[] {
  const v = c.cell(r);
  return Array.isArray(v) ? v : [v];
}

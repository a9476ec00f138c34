import { h } from '../dom.js';
import { href } from '../router.js';
import type { Found, FoundStatus, Proposal, Scan } from '../scan-api.js';
import { listTable } from './table.js';

// Words and an icon as well as colour: a duplicate must stand out to someone who cannot tell red from green.
interface Look {
  readonly icon: string;
  readonly label: string;
  readonly note: string;
}

const STATUS: Record<FoundStatus, Look> = {
  known: { icon: '✓', label: 'Configured', note: '' },
  new: { icon: '+', label: 'New', note: 'not configured yet' },
  duplicate: { icon: '⚠', label: 'DUPLICATE', note: 'two meters may share this address' },
  unidentified: { icon: '?', label: 'UNIDENTIFIED', note: 'answers, but the model is unknown' },
  missing: { icon: '✕', label: 'MISSING', note: 'configured here but did not answer' },
};

/** A status from the server; a newer server may report one this page does not know yet. */
const lookOf = (s: string): Look | undefined => (STATUS as Partial<Record<string, Look>>)[s];

export function foundStatus(s: FoundStatus): HTMLElement {
  const st = lookOf(s) ?? STATUS.unidentified;
  return h('span', { class: `found-status found-${s}`, 'data-testid': 'found-status' }, h('span', { 'aria-hidden': 'true' }, `${st.icon} `), st.label);
}

/** What answered on the bus, then the meters that could be added. */
export function scanResults(scan: Scan): HTMLElement {
  const found = [...scan.found].sort((a, b) => a.address - b.address);
  const trouble = found.filter((f) => f.status !== 'known' && f.status !== 'new').length;
  return h(
    'div',
    { class: 'stack', 'data-testid': 'scan-results' },
    h(
      'section',
      { 'aria-labelledby': 'found-title' },
      h(
        'h2',
        { id: 'found-title' },
        `Found ${found.length} ${found.length === 1 ? 'device' : 'devices'}`,
        trouble ? h('span', { class: 'warn-text' }, ` · ${trouble} need${trouble === 1 ? 's' : ''} attention`) : null,
      ),
      found.length === 0
        ? h('p', { class: 'hint' }, scan.state === 'running' ? 'Nothing has answered yet.' : 'Nothing answered in this range.')
        : listTable<Found>(
            {
              caption: 'Devices that answered',
              testId: 'found-table',
              rowAttrs: (f) => ({
                'data-testid': 'found-row',
                'data-address': f.address,
                'data-status': f.status,
                class: f.status === 'known' || f.status === 'new' ? null : 'found-trouble',
              }),
              columns: [
                { label: 'Address', labelOnCard: true, cell: (f) => String(f.address) },
                { label: 'Status', cell: (f) => foundStatus(f.status) },
                { label: 'Model', cell: (f) => f.model ?? 'unknown' },
                { label: 'Configured as', cell: (f) => f.configuredAs ?? '—' },
                { label: 'Detail', cell: (f) => [f.detail || lookOf(f.status)?.note || ''] },
              ],
            },
            found,
          ).el,
    ),
    scan.proposals.length > 0 ? proposals(scan.proposals) : null,
  );
}

function proposals(list: Proposal[]): HTMLElement {
  return h(
    'section',
    { 'aria-labelledby': 'proposals-title', 'data-testid': 'proposals' },
    h('h2', { id: 'proposals-title' }, 'Ready to add'),
    h('p', { class: 'hint' }, 'These answered and are not configured. "Add" opens the form filled in; check the name before saving.'),
    listTable<Proposal>(
      {
        caption: 'Meters the scan proposes to add',
        testId: 'proposals-table',
        rowAttrs: (p) => ({ 'data-testid': 'proposal-row', 'data-address': p.id }),
        columns: [
          {
            label: 'Address',
            labelOnCard: true,
            cell: (p) => [String(p.address ?? p.id), p.address !== undefined && p.address !== p.id ? h('small', {}, `as meter id ${p.id}`) : null],
          },
          { label: 'Name', cell: (p) => [p.name, p.note ? h('small', {}, p.note) : null] },
          { label: 'Type', cell: (p) => p.type },
          { label: 'Bus', cell: (p) => p.bus },
          {
            label: 'Action',
            cell: (p) =>
              h(
                'a',
                {
                  class: 'button small',
                  href: href({ page: 'add-meter', prefill: { id: String(p.id), name: p.name, type: p.type, bus: p.bus } }),
                  'aria-label': `Add meter ${p.id} (${p.name})`,
                  'data-testid': 'proposal-add',
                },
                'Add',
              ),
          },
        ],
      },
      list,
    ).el,
  );
}

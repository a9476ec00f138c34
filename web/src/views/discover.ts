import { api } from '../api.js';
import { h, setText } from '../dom.js';
import { capitalise } from '../format.js';
import { replaceRoute } from '../router.js';
import { scanApi, type Scan } from '../scan-api.js';
import { field, select } from './form.js';
import { errorBox } from './notice.js';
import { scanResults } from './scan-results.js';
import type { Ctx, View } from './view.js';

const POLL_MS = 1_000;

/** Bus discovery: which addresses answer, which are new, which clash; follows a running scan live. */
export function discoverView(ctx: Ctx, scanId?: string): View {
  const busSelect = select({ id: 'scan-bus', required: true, 'data-testid': 'scan-bus' }, []);
  const from = field(
    'From address',
    h('input', { id: 'scan-from', type: 'number', inputmode: 'numeric', min: 1, max: 247, value: 1, required: true, 'data-testid': 'scan-from' }),
  );
  const to = field(
    'To address',
    h('input', { id: 'scan-to', type: 'number', inputmode: 'numeric', min: 1, max: 247, value: 247, required: true, 'data-testid': 'scan-to' }),
  );
  const start = h('button', { type: 'submit', class: 'primary', 'data-testid': 'scan-start' }, 'Start scan');
  const formMsg = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'card form-row', 'aria-label': 'Scan a bus', 'data-testid': 'scan-form' },
    field('Bus', busSelect).el,
    from.el,
    to.el,
    h('div', { class: 'actions' }, start),
    formMsg,
  );
  const bar = h('progress', { id: 'scan-progress', max: 1, value: 0, 'data-testid': 'scan-bar' });
  const count = h('span', { 'data-testid': 'scan-count' });
  const stateText = h('p', { role: 'status', 'data-testid': 'scan-state' });
  const cancel = h('button', { type: 'button', class: 'secondary', 'data-testid': 'scan-cancel' }, 'Cancel scan');
  const progress = h(
    'section',
    { class: 'card', 'aria-labelledby': 'scan-title', 'data-testid': 'scan-progress-card', hidden: true },
    h('h2', { id: 'scan-title' }, 'Scan'),
    h('div', { class: 'meter-line' }, h('label', { for: 'scan-progress' }, count), bar),
    stateText,
    h('div', { class: 'actions' }, cancel),
  );
  const results = h('div');
  const el = h(
    'div',
    { class: 'page', 'data-testid': 'discover' },
    h('h1', {}, 'Discover meters on a bus'),
    h(
      'p',
      { class: 'hint' },
      'Asks each address in the range who it is, between normal polls (live readings carry on). A full 1–247 scan takes a few minutes on a 9600-baud line.',
    ),
    form,
    progress,
    results,
  );

  let current: Scan | null = null;
  let cancelPoll = (): void => undefined;
  let shownKey = '';

  function show(s: Scan): void {
    current = s;
    progress.hidden = false;
    bar.max = Math.max(s.total, 1);
    bar.value = s.scanned;
    setText(count, `Scanned ${s.scanned} of ${s.total} addresses (${s.from}–${s.to} on bus ${s.bus})`);
    const running = s.state === 'running';
    setText(stateText, running ? 'Scanning…' : s.state === 'failed' ? `Failed${s.error ? `: ${s.error}` : ''}` : `${capitalise(s.state)}.`);
    stateText.dataset['state'] = s.state;
    cancel.hidden = !running;
    start.disabled = running;
    // Redraw the tables only when they change, so focus and scrolling survive the 1 s updates.
    const key = `${s.state}|${s.found.length}|${s.proposals.length}|${s.found.map((f) => f.status).join()}`;
    if (key !== shownKey) {
      shownKey = key;
      results.replaceChildren(scanResults(s));
    }
    cancelPoll();
    if (running) cancelPoll = ctx.scope.after(POLL_MS, poll);
  }

  function poll(): void {
    if (!current) return;
    const id = current.id;
    void ctx.scope.load(scanApi.get(id), null, (s) => current?.id === id && show(s), {
      key: 'scan',
      error: (err) => {
        results.replaceChildren(errorBox(err));
        cancelPoll = ctx.scope.after(POLL_MS * 5, poll);
      },
    });
  }

  function follow(id: string): void {
    current = {
      id,
      bus: busSelect.value,
      from: Number(from.control.value),
      to: Number(to.control.value),
      state: 'running',
      scanned: 0,
      total: 0,
      found: [],
      proposals: [],
    };
    shownKey = '';
    replaceRoute({ page: 'discover', scan: id });
    poll();
  }

  void ctx.scope.load(
    api.buses(),
    null,
    ({ buses }) => {
      busSelect.replaceChildren(...buses.map((b) => h('option', { value: b.id }, `${b.id} (${b.transport})`)));
    },
    { error: (err) => formMsg.replaceChildren(errorBox(err)) },
  );

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    formMsg.replaceChildren();
    const a = Number(from.control.value);
    const b = Number(to.control.value);
    if (a > b) {
      to.error('The range ends before it starts.');
      return;
    }
    to.error(null);
    start.disabled = true;
    scanApi
      .start(busSelect.value, a, b)
      .then((r) => follow(r.scanId))
      .catch((err: unknown) => {
        start.disabled = false;
        formMsg.replaceChildren(errorBox(err, 'scan-error'));
      });
  });

  cancel.addEventListener('click', () => {
    if (!current) return;
    cancel.disabled = true;
    scanApi
      .cancel(current.id)
      .then(poll)
      .catch((err: unknown) => formMsg.replaceChildren(errorBox(err, 'scan-error')))
      .finally(() => {
        cancel.disabled = false;
      });
  });

  if (scanId) follow(scanId);
  return {
    el,
    onEvent(name, data) {
      if (name !== 'scan' || !current || !isScan(data) || data.id !== current.id) return;
      show(data);
    },
  };
}

function isScan(d: unknown): d is Scan {
  return typeof d === 'object' && d !== null && 'id' in d && 'state' in d && 'found' in d && Array.isArray(d.found);
}

import { api } from '../api.js';
import { h } from '../dom.js';
import { meterConfigApi } from '../meter-config-api.js';
import { meterModels, modelFor } from '../profiles-api.js';
import { capitalise, dateTime } from '../format.js';
import { inventoryApi, nextStates, reachedAt, STATUSES, type InventoryEvent, type InventoryMeter, type Status, type Transition } from '../inventory-api.js';
import { can } from '../roles.js';
import { href } from '../router.js';
import { since, statusCell } from './inventory-status.js';
import { field, select } from './form.js';
import { errorBox, loading, successBox } from './notice.js';
import type { Ctx, View } from './view.js';

/** Assigning gives the meter its Modbus address; these steps also record the bus it is (or will be) wired to. */
const TAKES_BUS: ReadonlySet<Status> = new Set(['Assigned', 'Installed', 'Commissioned']);

/** One inventory record: its details, its history, and (installers) the next steps of the workflow. */
export function inventoryRecordView(ctx: Ctx, serial: string): View {
  const tz = ctx.site.timezone;
  const body = h('div', { class: 'stack' }, loading());
  const el = h(
    'div',
    { class: 'page narrow', 'data-testid': 'inventory-record', 'data-serial': serial },
    h('p', {}, h('a', { href: href({ page: 'inventory' }), 'data-testid': 'back-to-inventory' }, '← Inventory')),
    body,
  );

  function load(notice?: HTMLElement): void {
    void ctx.scope.load(inventoryApi.get(serial), body, (r) => render(r.meter, r.history, notice).filter((x): x is HTMLElement => x !== null), {
      key: 'record',
      loading: false,
    });
  }

  function render(m: InventoryMeter, history: InventoryEvent[], notice?: HTMLElement): Array<HTMLElement | null> {
    const dates = STATUSES.map((s) => [s, reachedAt(m, s), m.stages?.[s]?.by ?? null] as const).filter(([, at]) => at !== null);
    return [
      h('div', {}, h('h1', {}, `Meter ${m.serial}`), h('p', { class: 'hint' }, `${m.model} · ${m.site}${m.building ? ` · ${m.building}` : ''}`)),
      notice ?? null,
      h(
        'section',
        { class: 'card', 'aria-label': 'Record' },
        h('p', { class: 'record-status' }, statusCell(m), since(m) ? h('span', { class: 'hint' }, ` since ${dateTime(since(m), tz)}`) : null),
        h(
          'dl',
          { class: 'figures' },
          fig('Address', m.address === null ? '—' : String(m.address)),
          fig('Bus', m.bus ?? '—'),
          ...dates.map(([label, at, by]) => fig(label, `${dateTime(at, tz)}${by ? ` by ${by}` : ''}`)),
        ),
        m.notes ? h('p', { class: 'notes' }, h('strong', {}, 'Notes: '), m.notes) : null,
        m.status === 'Commissioned' && m.address !== null
          ? h('p', {}, h('a', { href: href({ page: 'meter', key: `meter${m.address}` }) }, 'Open the live meter page'))
          : null,
      ),
      can(ctx.user, 'installer') ? transitions(m) : null,
      h(
        'section',
        { 'aria-labelledby': 'inv-history-title' },
        h('h2', { id: 'inv-history-title' }, 'History'),
        history.length === 0
          ? h('p', { class: 'hint' }, 'No changes recorded.')
          : h(
              'ol',
              { class: 'timeline', 'data-testid': 'inv-history' },
              ...[...history]
                .sort((a, b) => b.at - a.at)
                .map((e) =>
                  h(
                    'li',
                    {},
                    h('span', { class: 'when' }, dateTime(e.at, tz)),
                    ' ',
                    h('strong', {}, e.from && e.to ? `${e.from} → ${e.to}` : (e.to ?? capitalise(e.action ?? 'changed'))),
                    ` by ${e.by}`,
                    e.reason ? ` — ${e.reason}` : '',
                  ),
                ),
            ),
      ),
    ];
  }

  function transitions(m: InventoryMeter): HTMLElement {
    const next = nextStates(m);
    const slot = h('div');
    const section = h(
      'section',
      { class: 'card', 'aria-labelledby': 'inv-next-title', 'data-testid': 'inv-transitions' },
      h('h2', { id: 'inv-next-title' }, 'Next step'),
      next.length === 0
        ? h('p', { class: 'hint' }, 'This meter has reached the end of the workflow.')
        : h(
            'div',
            { class: 'actions' },
            ...next.map((to) =>
              h(
                'button',
                {
                  type: 'button',
                  class: to === 'Decommissioned' ? 'secondary danger' : 'secondary',
                  'data-testid': `inv-to-${to.toLowerCase()}`,
                  onclick: () => slot.replaceChildren(transitionForm(m, to)),
                },
                `Mark as ${to}…`,
              ),
            ),
          ),
      slot,
    );
    return section;
  }

  function transitionForm(m: InventoryMeter, to: Status): HTMLElement {
    const reason = field(
      'Reason or note',
      h('textarea', { id: 'inv-reason', rows: 2, required: true, 'data-testid': 'inv-reason' }),
      'Recorded in the history with your name.',
    );
    const assigning = to === 'Assigned';
    const withBus = TAKES_BUS.has(to);
    const suggest = h('button', { type: 'button', class: 'secondary', 'data-testid': 'inv-suggest' }, 'Suggest');
    const address = field(
      'Modbus address',
      h('input', {
        id: 'inv-address',
        type: 'number',
        inputmode: 'numeric',
        min: 1,
        max: 247,
        required: true,
        value: m.address ?? undefined,
        'data-testid': 'inv-address',
      }),
      'From the address plan; “Suggest” picks the next free one.',
      suggest,
    );
    const bus = field(
      'Bus',
      select({ id: 'inv-bus', 'data-testid': 'inv-bus' }, [['', 'Site’s first bus'], ...(m.bus ? [[m.bus, m.bus] as const] : [])], m.bus ?? ''),
    );
    const submit = h(
      'button',
      { type: 'submit', class: to === 'Decommissioned' ? 'primary danger' : 'primary', 'data-testid': 'inv-transition-submit' },
      `Mark as ${to}`,
    );
    const msg = h('div', { 'aria-live': 'polite' });
    const form = h(
      'form',
      { class: 'form-row', 'aria-label': `Move to ${to}`, 'data-testid': 'inv-transition-form' },
      reason.el,
      assigning ? address.el : null,
      withBus ? bus.el : null,
      h('div', { class: 'actions' }, submit),
      msg,
    );
    if (withBus) {
      api
        .buses()
        .then(({ buses }) => {
          const sel = bus.control;
          for (const b of buses) if (![...sel.querySelectorAll('option')].some((o) => o.value === b.id)) sel.append(h('option', { value: b.id }, b.id));
        })
        .catch(() => undefined);
    }
    suggest.addEventListener('click', () => {
      address.error(null);
      meterModels()
        .then((models) => meterConfigApi.suggestAddress(bus.control.value || undefined, modelFor(models, m.model)?.phases ?? 1))
        .then((r) => {
          address.control.value = String(r.address);
        })
        .catch((err: unknown) => address.error(err instanceof Error ? err.message : String(err)));
    });
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const t: Transition = { to, reason: reason.control.value.trim() };
      if (assigning && address.control.value) t.address = Number(address.control.value);
      if (withBus && bus.control.value) t.bus = bus.control.value;
      submit.disabled = true;
      inventoryApi
        .transition(m.serial, t)
        .then(() => load(successBox('inv-transition-done', `Marked as ${to}.`)))
        .catch((err: unknown) => {
          submit.disabled = false;
          msg.replaceChildren(errorBox(err, 'inv-transition-error'));
        });
    });
    queueMicrotask(() => reason.control.focus());
    return form;
  }

  load();
  return { el };
}

const fig = (term: string, value: string): HTMLElement => h('div', {}, h('dt', {}, term), h('dd', {}, value));

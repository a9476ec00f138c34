import { ApiError } from '../api.js';
import { billingApi, money, parseMoney, type Tariff, type TariffVersion } from '../billing-api.js';
import { h } from '../dom.js';
import { can } from '../roles.js';
import { billingTabs } from './billing-tabs.js';
import { field, select } from './form.js';
import { errorBox, loading, successBox } from './notice.js';
import type { Ctx, View } from './view.js';

/** Price per kWh: priceE4 is minor units x 10^4 per kWh. */
const perKwh = (e4: number | undefined, cur: string): string => (e4 === undefined ? '—' : `${money(Math.round(e4 / 1e4), cur)}/kWh`);

function energyText(v: TariffVersion, cur: string): string {
  const e = v.energy;
  if (e.kind === 'flat') return `Flat ${perKwh(e.priceE4, cur)}`;
  if (e.kind === 'block') return (e.blocks ?? []).map((b, i) => `${b.upToKWh === null ? `above ${(e.blocks?.[i - 1]?.upToKWh ?? 0)} kWh` : `up to ${b.upToKWh} kWh`} ${perKwh(b.priceE4, cur)}`).join('; ');
  return `Time of use, otherwise ${perKwh(e.otherwisePriceE4, cur)}`;
}

/** Tariffs with their versions; an admin adds a version (saved versions never change). */
export function tariffsView(ctx: Ctx): View {
  const list = h('div', { class: 'stack' }, loading());
  const el = h('div', { class: 'page', 'data-testid': 'tariffs' }, h('div', { class: 'page-head' }, h('h1', {}, 'Tariffs'), billingTabs('tariffs')), list);
  const load = (): void => {
    void ctx.scope.load(billingApi.tariffs(), list, (r) => (r.tariffs.length ? r.tariffs.map(card) : [h('p', { class: 'hint' }, 'No tariffs yet.')]), { key: 'tariffs', loading: false });
  };

  function card(t: Tariff): HTMLElement {
    return h('section', { class: 'card', 'data-testid': 'tariff', 'data-id': t.id },
      h('h2', {}, t.name, ' ', h('small', {}, `${t.id} · ${t.currency}`)),
      h('ol', { class: 'timeline' }, ...t.versions.map((v) => h('li', { 'data-testid': 'tariff-version' },
        h('strong', {}, `v${v.version} from ${v.effectiveFrom}: `), energyText(v, t.currency),
        `; fixed ${money(v.fixedMonthlyMinor, t.currency)}/month`, v.taxes.length ? `; ${v.taxes.map((x) => `${x.name} ${x.rateBp / 100}%`).join(', ')}` : '',
      ))),
      can(ctx.user, 'admin') ? editor(t) : null,
    );
  }

  function editor(t: Tariff): HTMLElement {
    const p = `t-${t.id.replace(/[^A-Za-z0-9_-]/g, '')}`;
    const cur = t.currency;
    const kind = field('Energy price', select({ id: `${p}-kind`, 'data-testid': 'tariff-kind' }, [['flat', 'Flat'], ['block', 'Lifeline block, then flat']]));
    const from = field('Effective from', h('input', { id: `${p}-from`, type: 'date', required: true, 'data-testid': 'tariff-from' }));
    const price = field(`Price per kWh (${cur})`, h('input', { id: `${p}-price`, inputmode: 'decimal', required: true, 'data-testid': 'tariff-price' }));
    const lifeKwh = field('Lifeline block up to (kWh per month)', h('input', { id: `${p}-life-kwh`, inputmode: 'decimal', 'data-testid': 'tariff-lifeline-kwh' }));
    const lifePrice = field(`Lifeline price per kWh (${cur})`, h('input', { id: `${p}-life-price`, inputmode: 'decimal', 'data-testid': 'tariff-lifeline-price' }));
    const fixed = field(`Fixed monthly charge (${cur})`, h('input', { id: `${p}-fixed`, inputmode: 'decimal', value: '0', 'data-testid': 'tariff-fixed' }));
    const vat = field('VAT (%)', h('input', { id: `${p}-vat`, inputmode: 'decimal', value: '0', 'data-testid': 'tariff-vat' }));
    const life = h('div', { class: 'form-row' }, lifeKwh.el, lifePrice.el);
    const sync = (): void => void (life.hidden = kind.control.value !== 'block');
    kind.control.addEventListener('change', sync);
    sync();
    const msg = h('div', { 'aria-live': 'polite' });
    const form = h('form', { class: 'form', 'data-testid': 'tariff-form' },
      h('div', { class: 'form-row' }, kind.el, from.el, price.el), life, h('div', { class: 'form-row' }, fixed.el, vat.el),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', 'data-testid': 'tariff-submit' }, 'Add version')), msg);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      msg.replaceChildren();
      const e4 = (s: string): number | null => { const m = parseMoney(s, cur); return m === null ? null : m * 1e4; };
      const priceE4 = e4(price.control.value);
      price.error(priceE4 === null ? 'Enter a price above zero' : null);
      if (priceE4 === null) return;
      let energy: unknown = { kind: 'flat', priceE4 };
      if (kind.control.value === 'block') {
        const upTo = Number(lifeKwh.control.value);
        const lp = e4(lifePrice.control.value);
        lifeKwh.error(upTo > 0 ? null : 'Enter the kWh the lifeline block covers');
        lifePrice.error(lp === null ? 'Enter the lifeline price' : null);
        if (!(upTo > 0) || lp === null) return;
        energy = { kind: 'block', blocks: [{ upToKWh: upTo, priceE4: lp }, { upToKWh: null, priceE4 }] };
      }
      const vatPct = Number(vat.control.value || 0);
      const version = {
        version: Math.max(0, ...t.versions.map((v) => v.version)) + 1,
        effectiveFrom: from.control.value,
        energy,
        fixedMonthlyMinor: parseMoney(fixed.control.value, cur) ?? 0,
        taxes: vatPct > 0 ? [{ name: 'VAT', rateBp: Math.round(vatPct * 100), base: ['energy', 'fixed'] }] : [],
      };
      billingApi.saveTariff({ id: t.id, name: t.name, currency: t.currency, versions: [...t.versions, version] })
        .then(() => { load(); })
        .then(() => msg.replaceChildren(successBox('tariff-saved', `Version ${version.version} added`)))
        .catch((err: unknown) => msg.replaceChildren(errorBox(err instanceof ApiError ? err : err, 'tariff-error')));
    });
    return h('details', {}, h('summary', { 'data-testid': 'tariff-add' }, 'Add a version'), form);
  }

  load();
  return { el };
}

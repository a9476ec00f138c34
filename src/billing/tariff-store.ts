import type Database from 'better-sqlite3';
import { ensureBillingSchema } from './billing-schema.js';
import { parseTariff, TariffInvalid, type Tariff, type TariffVersion } from './tariff.js';
import { prep } from './sql-cache.js';

/**
 * Saves a tariff. Versions already saved must come back unchanged (a bill must stay reproducible):
 * a price change is a new version with a later effectiveFrom. Everything is checked first (the schema,
 * the site's currency when given, immutability) and written in one transaction: a refused tariff
 * leaves nothing behind.
 */
export function saveTariff(db: Database.Database, input: unknown, opts: { currency?: string } = {}): Tariff {
  ensureBillingSchema(db);
  const t = parseTariff(input);
  if (opts.currency !== undefined && t.currency !== opts.currency)
    throw new TariffInvalid(`currency: found "${t.currency}"; this site bills in ${opts.currency}, so its tariffs must be in ${opts.currency}`);
  return db
    .transaction((): Tariff => {
      const old = loadTariff(db, t.id);
      if (old) {
        if (old.currency !== t.currency) throw new TariffInvalid(`tariff ${t.id} cannot change currency`);
        old.versions.forEach((v, i) => {
          if (canonical(v) !== canonical(t.versions[i]))
            throw new TariffInvalid(`tariff ${t.id} version ${v.version} is in use and cannot change; add a new version`);
        });
      }
      prep(db, 'INSERT INTO billing_tariffs (id, json) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET json = excluded.json').run(t.id, JSON.stringify(t));
      return t;
    })
    .immediate();
}

/** A version as compared for immutability: fees: [] and no fees are the same version. */
function canonical(v: TariffVersion | undefined): string {
  if (v === undefined) return '';
  const { fees, ...rest } = v;
  return JSON.stringify(fees && fees.length > 0 ? v : rest);
}

export function loadTariff(db: Database.Database, id: string): Tariff | undefined {
  ensureBillingSchema(db);
  const json = prep<[string], string>(db, 'SELECT json FROM billing_tariffs WHERE id = ?').pluck().get(id);
  return json === undefined ? undefined : parseTariff(JSON.parse(json));
}

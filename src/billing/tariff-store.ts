import type Database from 'better-sqlite3';
import { ensureBillingSchema } from './billing-schema.js';
import { parseTariff, type Tariff, type TariffVersion } from './tariff.js';
import { prep } from './sql-cache.js';

/**
 * Saves a tariff. Versions already saved must come back unchanged (a bill must stay reproducible):
 * a price change is a new version with a later effectiveFrom.
 */
export function saveTariff(db: Database.Database, input: unknown): Tariff {
  ensureBillingSchema(db);
  const t = parseTariff(input);
  const old = loadTariff(db, t.id);
  if (old) {
    old.versions.forEach((v, i) => {
      if (canonical(v) !== canonical(t.versions[i])) throw new Error(`tariff ${t.id} version ${v.version} is in use and cannot change; add a new version`);
    });
    if (old.currency !== t.currency) throw new Error(`tariff ${t.id} cannot change currency`);
  }
  prep(db, 'INSERT INTO billing_tariffs (id, json) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET json = excluded.json').run(t.id, JSON.stringify(t));
  return t;
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

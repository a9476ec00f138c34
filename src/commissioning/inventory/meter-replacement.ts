import type { StoreDb } from '../../store/database.js';
import { counterReading } from '../../store/counter-reading.js';
import { DEFAULT_COUNTER_NOISE } from '../../store/counter.js';
import type { BuildOptions } from '../../store/intervals.js';
import { rejudgeQuarantined, type Resolution } from '../../store/quarantine.js';
import { meterIdOf } from '../../store/registry.js';
import { insertReplacement, replacementsOf, type Replacement } from '../../store/replacements.js';
import type { Clock } from '../../util/clock.js';
import { InventoryError } from './error.js';

export interface ReplacementInput {
  readonly meter: string;
  /** When the swap happened: after the old meter's last and before the new meter's first reading. */
  readonly atMs: number;
  readonly oldSerial?: string;
  readonly newSerial?: string;
  readonly oldFinalImportKWh: number;
  readonly newFirstImportKWh: number;
  readonly oldFinalExportKWh?: number;
  readonly newFirstExportKWh?: number;
  readonly why: string;
}

export interface ReplacementDeps {
  readonly db: StoreDb;
  readonly clock: Clock;
  /** How intervals are built (the meters' limits), to re-judge those quarantined by the swap. */
  readonly buildOptions?: BuildOptions;
}

/**
 * Records a meter replacement, the only way the interval builder counts across a swap. The readings
 * must agree with what is stored (the old meter's final reading is not below its last stored one,
 * the new meter's first not above its first stored one). Intervals quarantined by the swap are built
 * again and resolved when they now add up.
 */
export function recordReplacement(d: ReplacementDeps, input: ReplacementInput, by: string): { replacement: Replacement; resolved: Resolution[] } {
  const meterId = meterIdOf(d.db, input.meter);
  if (meterId === undefined)
    throw new InventoryError('not-found', `meter: nothing is stored for "${input.meter}"; a replacement is recorded for a meter that has readings`);
  const now = d.clock();
  if (input.atMs > now)
    throw new InventoryError(
      'invalid',
      `at: found ${new Date(input.atMs).toISOString()}, which is in the future; allowed: a time up to now (${new Date(now).toISOString()})`,
    );
  if ((input.oldFinalExportKWh === undefined) !== (input.newFirstExportKWh === undefined)) {
    throw new InventoryError('invalid', 'oldFinalExportKWh, newFirstExportKWh: found only one of them; allowed: both export readings or neither');
  }
  checkAgainstStored(d.db, meterId, input);
  if (replacementsOf(d.db, meterId).some((r) => r.atMs === input.atMs)) {
    throw new InventoryError('conflict', `at: a replacement of ${input.meter} at ${new Date(input.atMs).toISOString()} is already recorded`);
  }
  return d.db.transaction(() => {
    const replacement = insertReplacement(d.db, {
      meterId,
      atMs: input.atMs,
      oldSerial: input.oldSerial ?? null,
      newSerial: input.newSerial ?? null,
      oldFinalImportKWh: input.oldFinalImportKWh,
      newFirstImportKWh: input.newFirstImportKWh,
      oldFinalExportKWh: input.oldFinalExportKWh ?? null,
      newFirstExportKWh: input.newFirstExportKWh ?? null,
      by,
      recordedMs: now,
      why: input.why,
    });
    const why = `meter replacement #${replacement.id}: ${input.why}`;
    const resolved = rejudgeQuarantined(d.db, meterId, input.atMs, { by, why, atMs: now }, d.buildOptions);
    return { replacement, resolved };
  })();
}

function checkAgainstStored(db: StoreDb, meterId: number, input: ReplacementInput): void {
  const pairs: [string, string, string, number | undefined, number | undefined][] = [
    ['EnergyImport', 'oldFinalImportKWh', 'newFirstImportKWh', input.oldFinalImportKWh, input.newFirstImportKWh],
    ['EnergyExport', 'oldFinalExportKWh', 'newFirstExportKWh', input.oldFinalExportKWh, input.newFirstExportKWh],
  ];
  // A reading at the swap time itself is the new meter's (as the interval builder counts it).
  for (const [channel, oldField, newField, oldFinal, newFirst] of pairs) {
    if (oldFinal === undefined || newFirst === undefined) continue;
    const before = counterReading(db, meterId, channel, input.atMs - 1);
    if (before && oldFinal < before.value - DEFAULT_COUNTER_NOISE) {
      throw new InventoryError(
        'invalid',
        `${oldField}: found ${oldFinal} kWh, but the old meter already showed ${before.value} kWh at ${new Date(before.ts).toISOString()}; allowed: its final reading, at least that`,
      );
    }
    const after = counterReading(db, meterId, channel, input.atMs, true);
    if (after && newFirst > after.value + DEFAULT_COUNTER_NOISE) {
      throw new InventoryError(
        'invalid',
        `${newField}: found ${newFirst} kWh, but the new meter showed ${after.value} kWh at ${new Date(after.ts).toISOString()}; allowed: its first reading, at most that`,
      );
    }
  }
}

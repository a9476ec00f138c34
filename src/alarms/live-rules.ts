import type { ComponentValues } from '../channels/process-image.js';
import type { MeterInfo, SiteRuntime } from '../site/site-runtime.js';
import type { AlarmConfig } from './alarm-config.js';
import type { RuleStateStore } from './rule-state.js';
import { frequencyFinding, siteFrequency, type FrequencyReading } from './rules/frequency.js';
import { BadCycleCounter, hasValidReading, offlineFinding } from './rules/meter-offline.js';
import { reverseEnergyStep, type ExportWatch } from './rules/reverse-energy.js';
import { VOLTAGE_CHANNELS, voltageFinding } from './rules/voltage.js';
import type { Finding, RuleId } from './types.js';

export interface LiveRuleDeps {
  readonly site: SiteRuntime;
  readonly config: AlarmConfig;
  readonly ruleState: RuleStateStore;
  readonly isOpen: (rule: RuleId, subject: string) => boolean;
  readonly now: () => number;
}

const good = (values: ComponentValues, channel: string): number | undefined => {
  const v = values[channel];
  return v && v.quality === 'GOOD' && v.value !== null && Number.isFinite(v.value) ? v.value : undefined;
};

const isExportWatch = (x: unknown): x is ExportWatch =>
  typeof x === 'object' && x !== null && ['baselineKWh', 'lastKWh', 'lastRiseAt'].every((k) => typeof (x as Record<string, unknown>)[k] === 'number');

/** The rules judged from the process image after every poll cycle: offline, voltage, frequency, reverse energy. */
export class LiveRules {
  private readonly badCycles = new BadCycleCounter();

  constructor(private readonly d: LiveRuleDeps) {}

  /** A cycle of one bus ended: counts it for that bus's meters, then judges them. */
  afterCycle(bus: string): Finding[] {
    const meters = this.enabledMeters().filter((m) => m.bus === bus);
    for (const m of meters) this.badCycles.record(m.key, hasValidReading(this.d.site.image.component(m.key)));
    return this.judge(meters);
  }

  /** Judges every enabled meter on the current image, without counting a cycle. */
  judgeAll(): Finding[] {
    return this.judge(this.enabledMeters());
  }

  private enabledMeters(): MeterInfo[] {
    return this.d.site.meterList().filter((m) => m.enabled);
  }

  private judge(meters: readonly MeterInfo[]): Finding[] {
    const out: Finding[] = [];
    for (const m of meters) {
      const values = this.d.site.image.component(m.key);
      out.push(offlineFinding(m, this.badCycles.count(m.key), this.d.config.offlineCycles, this.d.site.lastErrorOf(m.key)));
      for (const ch of VOLTAGE_CHANNELS) {
        const volts = good(values, ch);
        const subject = `${m.key}/${ch}`;
        if (volts !== undefined) out.push(voltageFinding(subject, volts, this.d.config.voltage, this.d.isOpen('voltage', subject)));
      }
      const reverse = this.reverseEnergy(m, values);
      if (reverse) out.push(reverse);
    }
    const freq = this.frequency();
    if (freq) out.push(freq);
    return out;
  }

  private frequency(): Finding | undefined {
    const readings: FrequencyReading[] = [];
    for (const m of this.enabledMeters()) {
      const hz = good(this.d.site.image.component(m.key), 'Frequency');
      if (hz !== undefined) readings.push({ meter: m.key, role: m.role, hz });
    }
    const f = siteFrequency(readings);
    return f && frequencyFinding(f.hz, f.source, this.d.config.frequency, this.d.isOpen('frequency', 'site'));
  }

  private reverseEnergy(m: MeterInfo, values: ComponentValues): Finding | undefined {
    if (m.role !== 'customer' || this.d.config.exportingMeters.includes(m.id)) return undefined;
    const exportKWh = good(values, 'EnergyExport');
    if (exportKWh === undefined) return undefined;
    const stored = this.d.ruleState.get('reverse_energy', m.key);
    const prev = isExportWatch(stored) ? stored : undefined;
    const step = reverseEnergyStep(m.key, prev, exportKWh, this.d.now(), this.d.config.reverseEnergyKWh, this.d.isOpen('reverse_energy', m.key));
    if (step.watch !== prev) this.d.ruleState.set('reverse_energy', m.key, step.watch);
    return step.finding;
  }
}

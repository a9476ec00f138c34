import type { ComponentValues } from '../channels/process-image.js';
import type { MeterInfo, SiteRuntime } from '../site/site-runtime.js';
import type { AlarmConfig } from './alarm-config.js';
import type { RuleStateStore } from './rule-state.js';
import { frequencyFinding, siteFrequency, type FrequencyReading } from './rules/frequency.js';
import { busDownFinding } from './rules/bus-down.js';
import { answeredLastPoll, BadCycleCounter, offlineFinding } from './rules/meter-offline.js';
import { reverseEnergyStep, type ExportWatch } from './rules/reverse-energy.js';
import { VOLTAGE_CHANNELS, voltageFinding } from './rules/voltage.js';
import { busSubject, type Finding, type RuleId } from './types.js';

/** How often a consumption meter's export watch is written while only its counter rises. */
const WATCH_WRITE_MS = 15 * 60_000;

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

/** The rules judged after every poll cycle: offline and bus down (from poll results), voltage, frequency, reverse energy. */
export class LiveRules {
  private readonly badCycles = new BadCycleCounter();

  constructor(private readonly d: LiveRuleDeps) {}

  /** A cycle of one bus ended: counts it for that bus and its meters, then judges them. */
  afterCycle(bus: string): Finding[] {
    const meters = this.metersOn(bus);
    for (const m of meters) this.badCycles.record(m.key, answeredLastPoll(this.d.site.pollStatusOf(m.key)));
    this.badCycles.record(busSubject(bus), !this.silent(meters));
    return [...this.judge(meters), this.busDown(bus)];
  }

  /** Judges every enabled meter and every bus on the current state, without counting a cycle. */
  judgeAll(): Finding[] {
    return [...this.judge(this.enabledMeters()), ...this.d.site.config.buses.map((b) => this.busDown(b.id))];
  }

  private metersOn(bus: string): MeterInfo[] {
    return this.enabledMeters().filter((m) => m.bus === bus);
  }

  /** No meter of the bus answered its last poll (meters never polled yet are not counted). */
  private silent(meters: readonly MeterInfo[]): boolean {
    const polled = meters.map((m) => this.d.site.pollStatusOf(m.key)).filter((p) => p !== null);
    return polled.length > 0 && polled.every((p) => !p.ok);
  }

  private busDown(bus: string): Finding {
    const meters = this.metersOn(bus);
    const lastError = meters.map((m) => this.d.site.lastErrorOf(m.key)).find((e) => e !== null) ?? null;
    return busDownFinding({ id: bus, port: this.d.site.busPort(bus) }, meters, this.badCycles.count(busSubject(bus)), this.d.config.offlineCycles, lastError);
  }

  /**
   * A meter's offline alarm is held back (left out, so an open one stays open and none is raised)
   * while its whole bus is silent: the bus alarm names the cause once instead of one alarm per meter.
   * It is also held back when its last failed poll happened before the bus answered again (the
   * bus came back mid-cycle, or the meter is still in its back-off): that failure blames the bus,
   * and judging it would raise a burst of false meter alarms just as the bus recovers.
   */
  private heldBack(m: MeterInfo): boolean {
    const status = this.d.site.pollStatusOf(m.key);
    if (!status || status.ok) return false;
    const onBus = this.metersOn(m.bus);
    if (this.silent(onBus)) return true;
    const answering = onBus.map((o) => this.d.site.pollStatusOf(o.key)).filter((p) => p?.ok === true);
    const busAnswersSince = Math.min(...answering.map((p) => p?.since ?? Infinity));
    return status.at < busAnswersSince;
  }

  private enabledMeters(): MeterInfo[] {
    return this.d.site.meterList().filter((m) => m.enabled);
  }

  private judge(meters: readonly MeterInfo[]): Finding[] {
    const out: Finding[] = [];
    for (const m of meters) {
      const values = this.d.site.image.component(m.key);
      if (!this.heldBack(m))
        out.push(
          offlineFinding(m, this.badCycles.count(m.key), this.d.config.offlineCycles, this.d.site.lastErrorOf(m.key), {
            id: m.bus,
            port: this.d.site.busPort(m.bus),
          }),
        );
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
    if (step.watch !== prev) {
      // The baseline decides the alarm and is written at once; a counter's rise only every 15 min (a
      // stale one after a power cut is caught up by the next reading).
      if (prev && step.watch.baselineKWh === prev.baselineKWh) this.d.ruleState.setLazily('reverse_energy', m.key, step.watch, this.d.now(), WATCH_WRITE_MS);
      else this.d.ruleState.set('reverse_energy', m.key, step.watch, this.d.now());
    }
    return step.finding;
  }
}

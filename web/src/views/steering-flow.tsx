import type { VNode } from 'preact';
import { controlApi, type ControlStatus, type Flow, type PhaseName, type Shown } from '../control-api.js';
import { ago } from '../format.js';
import { Show, useLoad } from '../ui/load.js';
import { kWabs, ShowControl, useNow, usePoll } from './steering.js';

const PHASES: readonly PhaseName[] = ['L1', 'L2', 'L3'];
const REFRESH_MS = 2000;

/** Below this (W) a flow is shown as none: the meters' noise is not a direction. */
const QUIET_W = 20;

/** A value is current only when GOOD; a STALE or ERROR one is greyed and dated, never shown as now. */
const isOld = (v: Shown): boolean => v !== null && v.quality !== 'GOOD';

/**
 * The energy flow now (GET /api/control/flow): grid, PV, battery, load and generator, in total and
 * per phase, each said in words (importing / exporting, charging / discharging) so no one has to
 * know the sign convention; values that are not fresh are greyed with their age.
 */
export function FlowPage(): VNode {
  const state = useLoad(() => controlApi.flow(), []);
  usePoll(() => state.reload(), REFRESH_MS);
  const status = useLoad(() => controlApi.status(), []);
  usePoll(() => status.reload(), REFRESH_MS * 2);
  return (
    <ShowControl state={state}>
      {(f) => (
        <>
          <Diagram f={f} />
          <Show state={status}>{(s) => <Frequency f={f} s={s} />}</Show>
          <PhaseTable f={f} />
          <section class="card" aria-labelledby="signs-title" data-testid="flow-signs">
            <h2 id="signs-title">How to read this</h2>
            <ul class="signs">
              <li>
                <strong>Grid</strong>: importing = the site takes power from the grid; exporting = it sends power into the grid.
              </li>
              <li>
                <strong>Battery</strong>: charging = power goes into the battery; discharging = the battery supplies the site.
              </li>
              <li>
                <strong>PV</strong> and <strong>generator</strong>: what they produce.
              </li>
              <li>
                <strong>Loads</strong>: what the site consumes, worked out as grid + battery + PV + generator (not metered directly).
              </li>
              <li>Grey values with an age are not current: the device has not answered since.</li>
            </ul>
          </section>
          <Show state={status}>
            {(s) =>
              Object.keys(s.modes).length ? (
                <p class="hint" data-testid="flow-modes">{`Battery modes: ${Object.entries(s.modes)
                  .map(([a, m]) => `${a} ${m}`)
                  .join(', ')}`}</p>
              ) : (
                <></>
              )
            }
          </Show>
        </>
      )}
    </ShowControl>
  );
}

/** Watts with a thousands separator and a real minus sign: "−1,000 W". */
const signedW = (w: number): string => `${w < 0 ? '−' : ''}${Math.abs(Math.round(w)).toLocaleString('en-US')} W`;

/**
 * The grid frequency and what frequency droop adds to the battery's command in force (the last cycle's
 * actuated decisions, their `offset`): "Frequency 50.30 Hz · droop −1,000 W on battery ess0 (charges more)".
 */
function Frequency({ f, s }: { f: Flow; s: ControlStatus }): VNode {
  const hz = f.grid?.frequency ?? null;
  if (!hz || hz.value === null) return <></>;
  const droop = s.controllers.some((c) => c.kind === 'frequency-droop' && !c.stopped);
  const byBattery = new Map<string, number>();
  for (const d of s.lastCycle?.decisions ?? [])
    if (d.outcome === 'actuate' && d.offset) {
      const component = d.target.slice(0, d.target.indexOf('/'));
      byBattery.set(component, (byBattery.get(component) ?? 0) + d.offset);
    }
  const parts = [...byBattery]
    .filter(([, w]) => Math.abs(w) >= 0.5)
    .map(([c, w]) => `droop ${signedW(w)} on battery ${c} (${w < 0 ? 'charges more' : 'discharges more'})`);
  const text = [`Frequency ${hz.value.toFixed(2)} Hz`, ...(parts.length ? parts : droop ? ['no droop response'] : [])].join(' · ');
  return (
    <p class={`hint${isOld(hz) ? ' is-old' : ''}`} data-testid="flow-frequency" data-droop={parts.length ? 'on' : 'off'}>
      {text}
    </p>
  );
}

interface NodeProps {
  readonly id: string;
  readonly label: string;
  readonly v: Shown;
  /** Words for positive and negative values (import/export, discharging/charging, producing). */
  readonly plus: string;
  readonly minus: string;
  /** Words for no flow ("idle" for a battery). */
  readonly zero?: string;
  readonly extra?: VNode | string | null;
  readonly area: string;
}

function FlowNode(p: NodeProps): VNode {
  const now = useNow();
  const w = p.v?.value ?? null;
  const dir = w === null ? 'none' : Math.abs(w) < QUIET_W ? 'none' : w > 0 ? 'plus' : 'minus';
  const words = w === null ? 'no data' : dir === 'none' ? (p.zero ?? 'none') : dir === 'plus' ? p.plus : p.minus;
  return (
    <section
      class={`card flow-node${isOld(p.v) ? ' is-old' : ''}`}
      style={{ gridArea: p.area }}
      data-testid={`flow-${p.id}`}
      data-dir={dir}
      data-quality={p.v?.quality ?? 'NONE'}
    >
      <h2 class="tile-label">{p.label}</h2>
      <span class="flow-value">
        <span class="tile-value" data-testid={`flow-${p.id}-kw`}>
          {w === null ? '—' : kWabs(w)}
        </span>
        <span class="unit"> kW</span>
      </span>
      <span class={`flow-dir flow-dir-${dir}`} data-testid={`flow-${p.id}-dir`}>
        {words}
      </span>
      {p.extra ? <small class="hint">{p.extra}</small> : null}
      {isOld(p.v) && p.v ? (
        <span class="age" data-testid={`flow-${p.id}-age`}>{`${p.v.quality === 'ERROR' ? 'no answer' : 'stale'} · ${ago(p.v.ts, now)}`}</span>
      ) : null}
    </section>
  );
}

/** Arrows between each asset and the site's bus, pointing the way the power flows. */
function Arrow({ area, v, toBus, testId }: { area: string; v: Shown; toBus: 'plus' | 'minus'; testId: string }): VNode {
  const w = v?.value ?? null;
  const flowing = w !== null && Math.abs(w) >= QUIET_W;
  const into = flowing && (w > 0 ? toBus === 'plus' : toBus === 'minus');
  const vertical = area.startsWith('a-n') || area.startsWith('a-s');
  const glyph = !flowing ? '·' : vertical ? (into === area.startsWith('a-n') ? '↓' : '↑') : into === area.startsWith('a-w') ? '→' : '←';
  return (
    <span class={`flow-arrow${flowing ? '' : ' quiet'}${isOld(v) ? ' is-old' : ''}`} style={{ gridArea: area }} aria-hidden="true" data-testid={testId}>
      {glyph}
    </span>
  );
}

function Diagram({ f }: { f: Flow }): VNode {
  const b = f.batteries[0];
  const pv = f.pv[0];
  const gen = f.generators[0];
  const soc = b?.soc?.value ?? null;
  return (
    <div class="flow" role="group" aria-label="Energy flow now" data-testid="flow-diagram">
      {pv ? (
        <FlowNode
          id="pv"
          label={`PV ${pv.component}`}
          v={pv.total}
          plus="producing"
          minus="consuming"
          area="pv"
          extra={
            pv.limitW?.value !== undefined && pv.limitW.value !== null && pv.limitW.value < pv.ratedW
              ? `limited to ${kWabs(pv.limitW.value)} kW`
              : `rated ${kWabs(pv.ratedW)} kW`
          }
        />
      ) : (
        <span style={{ gridArea: 'pv' }} />
      )}
      {pv ? <Arrow area="a-n" v={pv.total} toBus="plus" testId="arrow-pv" /> : null}
      {f.grid ? (
        <FlowNode id="grid" label="Grid" v={f.grid.total} plus="importing" minus="exporting" zero="balanced" area="grid" />
      ) : (
        <span style={{ gridArea: 'grid' }} />
      )}
      {f.grid ? <Arrow area="a-w" v={f.grid.total} toBus="plus" testId="arrow-grid" /> : null}
      <div class="flow-bus" style={{ gridArea: 'bus' }} aria-hidden="true">
        Site
      </div>
      {f.load ? <Arrow area="a-e" v={f.load.total} toBus="minus" testId="arrow-load" /> : null}
      {f.load ? <FlowNode id="load" label="Loads" v={f.load.total} plus="consuming" minus="feeding back" area="load" /> : <span style={{ gridArea: 'load' }} />}
      {b ? <Arrow area="a-s" v={b.total} toBus="plus" testId="arrow-battery" /> : null}
      {b ? (
        <FlowNode
          id="battery"
          label={`Battery ${b.component}`}
          v={b.total}
          plus="discharging"
          minus="charging"
          zero="idle"
          area="battery"
          extra={
            <span data-testid="flow-soc">
              {soc === null ? 'SoC —' : `SoC ${soc.toFixed(0)} %`}
              <meter class="soc" min={0} max={100} low={20} high={80} optimum={100} value={soc ?? 0} />
            </span>
          }
        />
      ) : (
        <span style={{ gridArea: 'battery' }} />
      )}
      {gen ? (
        <FlowNode
          id="generator"
          label={`Generator ${gen.component}`}
          v={gen.total}
          plus="producing"
          minus="consuming"
          area="gen"
          extra={gen.running?.value === null || gen.running === null ? null : gen.running.value >= 1 ? 'running' : 'stopped'}
        />
      ) : null}
    </div>
  );
}

function Cell({ v, plus, minus, testId }: { v: Shown; plus: string; minus: string; testId: string }): VNode {
  const now = useNow();
  const w = v?.value ?? null;
  const words = w === null || Math.abs(w) < QUIET_W ? '' : w > 0 ? plus : minus;
  return (
    <td class={`num${isOld(v) ? ' is-old' : ''}`} data-testid={testId} data-label="">
      {w === null ? '—' : kWabs(w)}
      {words ? <small>{words}</small> : null}
      {isOld(v) && v ? <span class="age">{ago(v.ts, now)}</span> : null}
    </td>
  );
}

function PhaseTable({ f }: { f: Flow }): VNode {
  const b = f.batteries[0];
  const pv = f.pv[0];
  const gen = f.generators[0];
  return (
    <section class="card" aria-labelledby="phases-title" data-testid="flow-phases">
      <h2 id="phases-title">
        Per phase <span class="count-total">(kW)</span>
      </h2>
      <div class="phase-flow-wrap">
        <table class="phase-flow">
          <thead>
            <tr>
              <th scope="col">Phase</th>
              {f.grid ? <th scope="col">Grid</th> : null}
              {pv ? <th scope="col">PV</th> : null}
              {b ? <th scope="col">Battery</th> : null}
              {gen ? <th scope="col">Gen.</th> : null}
              {f.load ? <th scope="col">Loads</th> : null}
            </tr>
          </thead>
          <tbody>
            {PHASES.map((p) => (
              <tr key={p} data-testid="flow-phase" data-phase={p}>
                <th scope="row">{p}</th>
                {f.grid ? <Cell v={f.grid.phases[p]} plus="import" minus="export" testId={`phase-grid-${p}`} /> : null}
                {pv ? <Cell v={pv.phases[p]} plus="prod." minus="cons." testId={`phase-pv-${p}`} /> : null}
                {b ? <Cell v={b.phases[p]} plus="dischg." minus="charg." testId={`phase-battery-${p}`} /> : null}
                {gen ? <Cell v={gen.phases[p]} plus="prod." minus="cons." testId={`phase-gen-${p}`} /> : null}
                {f.load ? <Cell v={f.load.phases[p]} plus="" minus="back" testId={`phase-load-${p}`} /> : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

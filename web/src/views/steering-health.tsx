import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import { controlApi, describeCommand, type ControlStatus, type Escalation } from '../control-api.js';
import { ago, dateTime } from '../format.js';
import { errorsOf, FormError, Success } from '../ui/form.js';
import { useLoad } from '../ui/load.js';
import { confirmDialog } from './confirm.js';
import { ShowControl, useNow, usePoll, type SteeringProps } from './steering.js';

const REFRESH_MS = 2000;
const ms = (x: number): string => `${x < 10 ? x.toFixed(1) : x.toFixed(0)} ms`;

/**
 * Whether the edge cycle keeps its period (start jitter and duration p50/p99, overruns), each
 * controller's state (a failed one in red with the reason), the emergency stop and the assets held
 * in their safe state and why, escalations waiting for a person, and what the last cycle decided.
 */
export function HealthPage(p: SteeringProps): VNode {
  const state = useLoad(() => controlApi.status(), []);
  usePoll(() => state.reload(), REFRESH_MS);
  const [done, setDone] = useState<string | null>(null);
  return (
    <ShowControl state={state}>
      {(s) => (
        <>
          {done ? <Success testId="escalation-done">{done}</Success> : null}
          <Safety s={s} />
          <Timing s={s} />
          <Controllers s={s} />
          <Escalations
            list={s.escalations}
            operator={p.operator}
            tz={p.tz}
            changed={(t) => {
              setDone(t);
              state.reload();
            }}
          />
          <Autonomy s={s} />
          <LastCycle s={s} tz={p.tz} />
        </>
      )}
    </ShowControl>
  );
}

function Safety({ s }: { s: ControlStatus }): VNode {
  return (
    <section class={`card${s.eStop || s.safe.length ? ' attention' : ''}`} aria-labelledby="safety-title" data-testid="health-safety">
      <h2 id="safety-title">Safety</h2>
      <p data-testid="estop" data-pressed={String(s.eStop)}>
        {s.eStop ? (
          <span class="badge badge-error">✕ Emergency stop pressed: every asset is in its safe state</span>
        ) : (
          <span class="badge badge-good">✓ Emergency stop not pressed</span>
        )}
      </p>
      {s.safe.length === 0 ? (
        <p class="hint" data-testid="safe-none">
          No asset is held in its safe state.
        </p>
      ) : (
        <ul class="plain" data-testid="safe-list">
          {s.safe.map((x, i) => (
            <li key={`${x.component}-${i}`} class="warn-text" data-testid="safe-item" data-component={x.component}>{`${x.component} held safe: ${x.why}`}</li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Timing({ s }: { s: ControlStatus }): VNode {
  const t = s.timing;
  const late = t.jitterMs.p99 > s.periodMs / 10;
  return (
    <section class="card" aria-labelledby="timing-title" data-testid="health-timing">
      <h2 id="timing-title">Cycle</h2>
      <dl class="figures">
        <div>
          <dt>Period</dt>
          <dd data-testid="period">{`${(s.periodMs / 1000).toFixed(s.periodMs % 1000 ? 1 : 0)} s`}</dd>
        </div>
        <div>
          <dt>Cycles run</dt>
          <dd data-testid="cycles">{String(t.cycles)}</dd>
        </div>
        <div>
          <dt>Duration p50 / p99</dt>
          <dd data-testid="duration">{`${ms(t.durationMs.p50)} / ${ms(t.durationMs.p99)}`}</dd>
        </div>
        <div>
          <dt>Start jitter p50 / p99</dt>
          <dd data-testid="jitter" class={late ? 'warn-text' : ''}>{`${ms(t.jitterMs.p50)} / ${ms(t.jitterMs.p99)}`}</dd>
        </div>
        <div>
          <dt>Worst duration / jitter</dt>
          <dd>{`${ms(t.durationMs.max)} / ${ms(t.jitterMs.max)}`}</dd>
        </div>
        <div>
          <dt>Overruns</dt>
          <dd data-testid="overruns" class={t.overruns ? 'warn-text' : ''}>
            {String(t.overruns)}
          </dd>
        </div>
        <div>
          <dt>Controller budget</dt>
          <dd>{ms(s.budgetMs)}</dd>
        </div>
      </dl>
    </section>
  );
}

function Controllers({ s }: { s: ControlStatus }): VNode {
  return (
    <section class="card" aria-labelledby="ctl-title" data-testid="health-controllers">
      <h2 id="ctl-title">Controllers</h2>
      {s.controllers.length === 0 ? (
        <p class="hint">None runs.</p>
      ) : (
        <ul class="ctl-list">
          {s.controllers.map((c) => (
            <li key={c.id} class={c.status.state === 'failed' ? 'failed' : ''} data-testid="health-controller" data-id={c.id} data-state={c.status.state}>
              <strong>{c.id}</strong>{' '}
              <small>{`${c.kind} · ${c.criticality}${c.assets.length ? ` · ${c.assets.join(', ')}` : ''}${c.lastMs !== null ? ` · ${ms(c.lastMs)}` : ''}`}</small>{' '}
              <span class={`badge ${c.status.state === 'failed' ? 'badge-error' : c.status.state === 'ok' ? 'badge-good' : 'badge-off'}`}>
                {c.status.state === 'failed' ? `✕ failed${c.stopped ? ', stopped' : ''}` : c.status.state === 'ok' ? '✓ ok' : '– idle'}
              </span>
              <p class={c.status.state === 'failed' ? 'warn-text' : 'hint'} data-testid="controller-reason">
                {c.status.state === 'ok' ? c.status.detail : c.status.reason}
              </p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Escalations({ list, operator, tz, changed }: { list: readonly Escalation[]; operator: boolean; tz: string; changed: (t: string) => void }): VNode {
  const now = useNow();
  const [error, setError] = useState<string | null>(null);
  function confirm(e: Escalation): void {
    void confirmDialog({
      title: `Confirm ${e.capability} on ${e.asset}?`,
      message: `It returns to Level 3: the system acts on its own again within policy. It was escalated because: ${e.why}`,
      confirm: 'Confirm',
    }).then((yes) => {
      if (!yes) return;
      controlApi
        .confirm(e.capability, e.asset)
        .then(() => changed(`${e.capability} on ${e.asset} confirmed: back to Level 3`))
        .catch((err: unknown) => setError(errorsOf(err).form));
    });
  }
  return (
    <section class={`card${list.length ? ' attention' : ''}`} aria-labelledby="esc-title" data-testid="health-escalations">
      <h2 id="esc-title">Escalations</h2>
      <FormError text={error} testId="escalation-error" />
      {list.length === 0 ? (
        <p class="hint" data-testid="escalations-none">
          Nothing escalated: every Level 3 capability acts on its own.
        </p>
      ) : (
        <ul class="item-list">
          {list.map((e) => (
            <li key={`${e.capability}|${e.asset}`} class="item" data-testid="escalation">
              <p class="item-head">
                <strong>{`${e.capability} on ${e.asset}`}</strong> <span class="badge badge-stale">dropped to Level 2</span>
              </p>
              <p class="item-why">{e.why}</p>
              <p class="hint">{`since ${dateTime(e.sinceMs, tz)} (${ago(e.sinceMs, now)})`}</p>
              {operator ? (
                <div class="actions">
                  <button type="button" class="primary small" onClick={() => confirm(e)} data-testid="escalation-confirm">
                    Confirm…
                  </button>
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Autonomy({ s }: { s: ControlStatus }): VNode {
  return (
    <section class="card" aria-labelledby="aut-title" data-testid="health-autonomy">
      <h2 id="aut-title">Autonomy</h2>
      <p class="hint">L1: recommends to people on site · L2: proposes, a person approves · L3: acts within policy and escalates.</p>
      <ul class="plain">
        {s.autonomy.map((a) => (
          <li key={`${a.capability}|${a.asset}`} data-testid="autonomy" data-level={a.level}>
            <strong>{a.level}</strong>
            {` ${a.capability} on ${a.asset}`}
            {a.level !== a.default ? <small class="hint">{` (default ${a.default})`}</small> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

function LastCycle({ s, tz }: { s: ControlStatus; tz: string }): VNode {
  const c = s.lastCycle;
  return (
    <section class="card" aria-labelledby="last-title" data-testid="health-last">
      <h2 id="last-title">Last cycle {c ? <small class="count-total">{`#${c.cycle} at ${dateTime(c.at, tz)}`}</small> : null}</h2>
      {!c || c.decisions.length === 0 ? (
        <p class="hint">No decision.</p>
      ) : (
        <ul class="item-list compact">
          {c.decisions.map((d) => (
            <li key={d.target} data-testid="decision" data-outcome={d.outcome}>
              <span class="badge badge-off">{d.outcome}</span> {describeCommand(d.target, d.value)}
              <small class="hint">{` — ${d.why}${d.offset ? ` (droop ${d.offset < 0 ? '−' : '+'}${Math.abs(Math.round(d.offset))} W included)` : ''}${d.boundBy?.length ? ` (bound by ${d.boundBy.join(', ')})` : ''}`}</small>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

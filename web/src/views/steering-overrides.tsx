import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import { controlApi, describeCommand, type ControlStatus, type Override } from '../control-api.js';
import { dateTime } from '../format.js';
import { errorsOf, Field, FormError, NO_ERRORS, Success, type FormErrors } from '../ui/form.js';
import { useLoad } from '../ui/load.js';
import { confirmDialog } from './confirm.js';
import { countdown, ShowControl, useNow, usePoll, type SteeringProps } from './steering.js';

const REFRESH_MS = 3000;

/**
 * A person takes an asset by hand for a set time (POST /api/control/override): a battery mode or
 * power, a PV limit, a generator run or stop, a relay; the safety limits still apply. Each override
 * shows who took it, why, and the time left; release ends it early.
 */
export function OverridesPage(p: SteeringProps): VNode {
  const state = useLoad(() => controlApi.status(), []);
  usePoll(() => state.reload(), REFRESH_MS);
  const [done, setDone] = useState<string | null>(null);
  const changed = (text: string): void => {
    setDone(text);
    state.reload();
  };
  return (
    <ShowControl state={state}>
      {(s) => (
        <>
          {done ? <Success testId="override-done">{done}</Success> : null}
          <p class="hint">
            An override holds an asset whatever the controllers say, until its time is up or it is released. Safety limits (SoC, power, ramp) still apply.
          </p>
          {s.assets.length === 0 ? <p class="hint">No steerable asset is configured.</p> : null}
          <div class="grid">
            {s.assets.map((a) => (
              <AssetCard key={a.component} asset={a} s={s} p={p} changed={changed} />
            ))}
          </div>
        </>
      )}
    </ShowControl>
  );
}

type Kind = 'battery' | 'pv' | 'generator' | 'relay' | 'ev';
const kindOf = (k: string): Kind =>
  k.startsWith('battery') ? 'battery' : k === 'pv-limit' ? 'pv' : k === 'generator' ? 'generator' : k === 'ev-charger' ? 'ev' : 'relay';

function AssetCard({
  asset,
  s,
  p,
  changed,
}: {
  asset: ControlStatus['assets'][number];
  s: ControlStatus;
  p: SteeringProps;
  changed: (t: string) => void;
}): VNode {
  const held = s.overrides.filter((o) => o.asset === asset.component);
  const kind = kindOf(asset.kind);
  const label = { battery: 'Battery', pv: 'PV', generator: 'Generator', relay: 'Relay', ev: 'EV charger' }[kind];
  return (
    <section class="card" aria-labelledby={`ov-${asset.component}`} data-testid="override-asset" data-asset={asset.component}>
      <h2 id={`ov-${asset.component}`}>
        {`${label} ${asset.component}`} <small class="count-total">{asset.kind}</small>
      </h2>
      {s.modes[asset.component] ? <p class="hint">{`Mode now: ${s.modes[asset.component] ?? ''}`}</p> : null}
      {held.length ? (
        <Held list={held} operator={p.operator} tz={p.tz} changed={changed} />
      ) : (
        <p class="hint" data-testid="override-none">
          Steered by the controllers.
        </p>
      )}
      {p.operator ? <TakeForm asset={asset.component} kind={kind} changed={changed} /> : null}
    </section>
  );
}

function Held({ list, operator, tz, changed }: { list: readonly Override[]; operator: boolean; tz: string; changed: (t: string) => void }): VNode {
  const now = useNow();
  const first = list[0] as Override;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const left = first.untilMs - now;
  function release(): void {
    void confirmDialog({
      title: `Release ${first.asset}?`,
      message: `The controllers steer ${first.asset} again from the next cycle.`,
      confirm: 'Release now',
    }).then((yes) => {
      if (!yes) return;
      setBusy(true);
      controlApi
        .release(first.asset, 'released in the web UI')
        .then(() => changed(`Released ${first.asset}: the controllers steer it again`))
        .catch((err: unknown) => setError(errorsOf(err).form))
        .finally(() => setBusy(false));
    });
  }
  return (
    <div class="override-held" data-testid="override-held">
      <p class="item-head">
        <span class="badge badge-stale">Held by hand</span>
        <span class="countdown" data-testid="override-countdown" aria-live="off">
          {left > 0 ? `${countdown(left)} left` : 'ending…'}
        </span>
      </p>
      <ul class="plain">
        {list.map((o) => (
          <li key={o.target} data-testid="override-target">
            {describeCommand(o.target, o.value)}
          </li>
        ))}
      </ul>
      <p class="hint">{`by ${first.by} until ${dateTime(first.untilMs, tz)}: ${first.reason}`}</p>
      <FormError text={error} testId="release-error" />
      {operator ? (
        <div class="actions">
          <button type="button" class="secondary small" disabled={busy} onClick={release} data-testid="override-release">
            Release…
          </button>
        </div>
      ) : null}
    </div>
  );
}

function TakeForm({ asset, kind, changed }: { asset: string; kind: Kind; changed: (t: string) => void }): VNode {
  const [how, setHow] = useState<string>(kind === 'battery' ? 'charge' : kind === 'pv' || kind === 'ev' ? 'limit' : '1');
  const [watts, setWatts] = useState('');
  const [minutes, setMinutes] = useState('30');
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState(false);
  const pre = `take-${asset}`;
  // A PV limit and an EV charging limit are both a cap in W.
  const limitKind = kind === 'pv' || kind === 'ev';
  const needsWatts = (kind === 'battery' && how === 'setpoint') || limitKind;

  function submit(ev: Event): void {
    ev.preventDefault();
    const fields: Record<string, string> = {};
    const m = Number(minutes);
    if (minutes.trim() === '' || !Number.isFinite(m) || m <= 0 || m > 1440) fields['minutes'] = 'Between 1 and 1440 minutes';
    const w = Number(watts);
    if (needsWatts && (watts.trim() === '' || !Number.isFinite(w)))
      fields['setpoint'] = limitKind ? 'A limit in W' : 'A power in W (positive = discharge, negative = charge)';
    if (limitKind && w < 0) fields['setpoint'] = 'A limit of 0 W or more';
    const why = reason.trim();
    if (!why) fields['reason'] = 'Say why you take it: it goes into the audit log';
    if (Object.keys(fields).length) {
      setErrors({ fields, form: null });
      return;
    }
    setErrors(NO_ERRORS);
    const body =
      kind === 'battery' && how !== 'setpoint'
        ? { asset, mode: how as 'charge' | 'discharge' | 'idle', minutes: m, reason: why }
        : { asset, setpoint: needsWatts ? w : Number(how), minutes: m, reason: why };
    const what =
      'mode' in body
        ? body.mode === 'idle'
          ? `hold ${asset} idle (0 W)`
          : `${body.mode} ${asset} at full power`
        : kind === 'pv'
          ? `limit ${asset} to ${w} W`
          : kind === 'ev'
            ? describeCommand(`${asset}/SetChargeLimit`, w)
            : kind === 'battery'
              ? describeCommand(`${asset}/SetActivePower`, w)
              : `${kind === 'generator' ? (body.setpoint >= 1 ? 'run' : 'stop') : body.setpoint >= 1 ? 'close' : 'open'} ${asset}`;
    void confirmDialog({
      title: `Take ${asset} by hand?`,
      message: `${what} for ${m} min, whatever the controllers say (safety limits still apply). Reason: ${why}`,
      confirm: 'Take over',
    }).then((yes) => {
      if (!yes) return;
      setBusy(true);
      controlApi
        .override(body)
        .then(() => {
          setReason('');
          changed(`${asset} held by hand for ${m} min: ${what}`);
        })
        .catch((err: unknown) =>
          setErrors(errorsOf(err, (f) => (/reason/.test(f) ? 'reason' : /minutes/.test(f) ? 'minutes' : /setpoint|mode/.test(f) ? 'setpoint' : null))),
        )
        .finally(() => setBusy(false));
    });
  }

  return (
    <details class="take" data-testid="override-take">
      <summary data-testid="override-open">Take by hand…</summary>
      <form class="form" onSubmit={submit} noValidate data-testid="override-form">
        {!limitKind ? (
          <Field id={`${pre}-how`} label="What">
            {(a) => (
              <select {...a} value={how} onChange={(e) => setHow(e.currentTarget.value)} data-testid="override-how">
                {kind === 'battery' ? (
                  <>
                    <option value="charge">Charge (at full power)</option>
                    <option value="discharge">Discharge (at full power)</option>
                    <option value="idle">Idle (0 W)</option>
                    <option value="setpoint">A set power…</option>
                  </>
                ) : kind === 'generator' ? (
                  <>
                    <option value="1">Run</option>
                    <option value="0">Stop</option>
                  </>
                ) : (
                  <>
                    <option value="1">Close (supply on)</option>
                    <option value="0">Open (supply off)</option>
                  </>
                )}
              </select>
            )}
          </Field>
        ) : null}
        {needsWatts ? (
          <Field
            id={`${pre}-w`}
            label={kind === 'pv' ? 'PV limit (W)' : kind === 'ev' ? 'Charging limit (W)' : 'Battery power (W)'}
            error={errors.fields['setpoint']}
            hint={
              kind === 'pv'
                ? 'Production cap'
                : kind === 'ev'
                  ? 'Whole amps; under 6 A per phase (or 0) pauses the car'
                  : 'Positive = discharge, negative = charge'
            }
          >
            {(a) => <input {...a} inputMode="decimal" value={watts} onInput={(e) => setWatts(e.currentTarget.value)} data-testid="override-watts" />}
          </Field>
        ) : null}
        <Field id={`${pre}-min`} label="For (minutes)" error={errors.fields['minutes']}>
          {(a) => <input {...a} inputMode="numeric" value={minutes} onInput={(e) => setMinutes(e.currentTarget.value)} data-testid="override-minutes" />}
        </Field>
        <Field id={`${pre}-reason`} label="Why" error={errors.fields['reason']} hint="Kept in the audit log with your name">
          {(a) => (
            <input {...a} value={reason} maxLength={500} autocomplete="off" onInput={(e) => setReason(e.currentTarget.value)} data-testid="override-reason" />
          )}
        </Field>
        <FormError text={errors.form} testId="override-error" />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy} data-testid="override-submit">
            Take over…
          </button>
        </div>
      </form>
    </details>
  );
}

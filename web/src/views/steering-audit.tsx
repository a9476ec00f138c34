import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import { controlApi, type Verification } from '../control-api.js';
import { clock, dateOnly } from '../format.js';
import { midnight } from '../tz.js';
import { errorsOf, Field, FormError, NO_ERRORS, type FormErrors } from '../ui/form.js';
import { useLoad } from '../ui/load.js';
import { ShowControl, type SteeringProps } from './steering.js';

const PAGE = 50;

/** "2026-03-10T14:30" (a datetime-local input) in the site's time zone, as ms; null when empty or not a time. */
function siteTime(v: string, tz: string): number | null {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})$/.exec(v);
  if (!m) return null;
  // Midnight of that day in the site's zone plus the clock time (sites without daylight saving: East Africa).
  return midnight(m[1] as string, tz) + (Number(m[2]) * 60 + Number(m[3])) * 60_000;
}

/**
 * The hash-chained audit log of steering (GET /api/control/audit): newest first, a page at a time,
 * filtered by time; "Verify chain" walks every entry and says the chain is intact or where it breaks.
 */
export function AuditPage(p: SteeringProps): VNode {
  const [range, setRange] = useState<{ from?: number; to?: number }>({});
  /** The `beforeId` of each page shown so far: the last is the current page (undefined = newest). */
  const [pages, setPages] = useState<Array<number | undefined>>([undefined]);
  const before = pages[pages.length - 1];
  const state = useLoad(
    () => controlApi.audit({ ...range, ...(before !== undefined ? { beforeId: before } : {}), limit: PAGE }),
    [range.from, range.to, before],
  );
  const [fromText, setFromText] = useState('');
  const [toText, setToText] = useState('');
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [verification, setVerification] = useState<Verification | null>(null);
  const [verifyError, setVerifyError] = useState<string | null>(null);
  const [verifying, setVerifying] = useState(false);

  function filter(ev: Event): void {
    ev.preventDefault();
    const fields: Record<string, string> = {};
    const from = fromText ? siteTime(fromText, p.tz) : undefined;
    const to = toText ? siteTime(toText, p.tz) : undefined;
    if (from === null) fields['from'] = 'A date and time';
    if (to === null) fields['to'] = 'A date and time';
    if (typeof from === 'number' && typeof to === 'number' && to <= from) fields['to'] = 'After the start';
    if (Object.keys(fields).length) {
      setErrors({ fields, form: null });
      return;
    }
    setErrors(NO_ERRORS);
    setRange({ ...(typeof from === 'number' ? { from } : {}), ...(typeof to === 'number' ? { to } : {}) });
    setPages([undefined]);
  }

  function verify(): void {
    setVerifying(true);
    setVerifyError(null);
    controlApi
      .audit({ limit: 1, verify: true })
      .then((r) => setVerification(r.verification ?? null))
      .catch((err: unknown) => setVerifyError(errorsOf(err).form))
      .finally(() => setVerifying(false));
  }

  return (
    <>
      <section class="card" aria-labelledby="verify-title" data-testid="audit-verify">
        <h2 id="verify-title">Tamper check</h2>
        <p class="hint">Each entry carries the hash of the one before: an entry edited or deleted behind the system's back breaks the chain there.</p>
        <div class="actions">
          <button type="button" class="secondary" onClick={verify} disabled={verifying} data-testid="verify-chain">
            {verifying ? 'Verifying…' : 'Verify chain'}
          </button>
        </div>
        <FormError text={verifyError} testId="verify-error" />
        {verification ? (
          verification.ok ? (
            <p
              class="notice notice-ok"
              role="status"
              data-testid="verify-result"
              data-ok="true"
            >{`✓ The chain is intact: ${verification.entries} entries, head ${verification.head.slice(0, 12)}…`}</p>
          ) : (
            <p
              class="notice notice-error"
              role="alert"
              data-testid="verify-result"
              data-ok="false"
            >{`✕ The chain breaks at entry ${verification.at} (of ${verification.entries}): ${verification.why}`}</p>
          )
        ) : null}
      </section>
      <form class="card form" onSubmit={filter} noValidate aria-labelledby="filter-title" data-testid="audit-filter">
        <h2 id="filter-title">Time</h2>
        <fieldset>
          <Field id="audit-from" label="From" error={errors.fields['from']} hint="Site time">
            {(a) => <input {...a} type="datetime-local" value={fromText} onInput={(e) => setFromText(e.currentTarget.value)} data-testid="audit-from" />}
          </Field>
          <Field id="audit-to" label="Until" error={errors.fields['to']}>
            {(a) => <input {...a} type="datetime-local" value={toText} onInput={(e) => setToText(e.currentTarget.value)} data-testid="audit-to" />}
          </Field>
        </fieldset>
        <div class="actions">
          <button type="submit" class="primary small" data-testid="audit-apply">
            Show
          </button>
          {range.from !== undefined || range.to !== undefined ? (
            <button
              type="button"
              class="secondary small"
              onClick={() => {
                setFromText('');
                setToText('');
                setRange({});
                setPages([undefined]);
              }}
            >
              All times
            </button>
          ) : null}
        </div>
      </form>
      <ShowControl state={state}>
        {(r) => {
          const list = [...r.entries].reverse();
          const oldest = r.entries[0];
          const olderLeft = (r.before ?? r.total) - r.entries.length;
          const shownFrom = (r.before ?? r.total) - r.entries.length + 1;
          return (
            <section class="card" aria-labelledby="entries-title" data-testid="audit-entries">
              <h2 id="entries-title">
                Entries{' '}
                <span class="count-total" data-testid="audit-count">
                  {r.entries.length ? `(${shownFrom}–${r.before ?? r.total} of ${r.total}, newest first)` : `(0 of ${r.total})`}
                </span>
              </h2>
              {list.length === 0 ? (
                <p class="hint">No entry in this time.</p>
              ) : (
                <ol class="timeline audit">
                  {list.map((e) => (
                    <li key={e.id} data-testid="audit-entry" data-action={e.action}>
                      <span class="when">{`#${e.id} · ${dateOnly(e.ts, p.tz)} ${clock(e.ts, p.tz)}`}</span> <strong>{e.action}</strong>{' '}
                      <small>{`by ${e.actor}`}</small>
                      <p class="audit-detail">{e.detail}</p>
                    </li>
                  ))}
                </ol>
              )}
              <div class="actions separated">
                <button
                  type="button"
                  class="secondary small"
                  disabled={pages.length <= 1}
                  onClick={() => setPages((ps) => ps.slice(0, -1))}
                  data-testid="audit-newer"
                >
                  ← Newer
                </button>
                <button
                  type="button"
                  class="secondary small"
                  disabled={olderLeft <= 0 || !oldest}
                  onClick={() => oldest && setPages((ps) => [...ps, oldest.id])}
                  data-testid="audit-older"
                >
                  Older →
                </button>
              </div>
            </section>
          );
        }}
      </ShowControl>
    </>
  );
}

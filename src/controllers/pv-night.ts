import { inWindow, type DailyWindow } from './time-window.js';

/**
 * Night for a curtailed PV array (zero export, docs/ems-modes.md): while PV is held back, the site cannot
 * see what the sun would give, so zero export probes (planRelease). At night a probe only pulses the grid
 * (the battery charges a step from the grid) and a limit that follows the load is rewritten every cycle;
 * so at night nothing is probed and the limit is held still. Pure.
 *
 * Night is either
 * - solar time: outside the configured `daylight` hours in the site's time zone, or
 * - measured: total PV production under `darkW` for `afterMs`, with proof that the dark is the sun's and
 *   not the limit's (a limit that would let `darkW` + 50 W through, or a probe PV did not take up).
 * It ends as soon as PV produces `darkW` again. Through the night the limit is held at
 * max(`watchW`, the limit at dusk), so the morning sun shows in the measured production and ends the night
 * by itself. A dawn that rises over minutes ends the night at about `darkW`; sun that came all at once
 * (never at dawn; a misconfigured daylight window at noon) could pass up to the held limit for one cycle.
 */
export interface NightConfig {
  /** Below this total production (W) the array counts as dark; 20 W by default. */
  readonly darkW?: number;
  /** How long dark before it is night (ms); 10 minutes by default. */
  readonly afterMs?: number;
  /** The least PV limit held through the night (W); the release's base step by default. */
  readonly watchW?: number;
  /** Daylight hours in the site's local time; outside them it is night whatever PV measures. */
  readonly daylight?: DailyWindow;
}

export interface NightState {
  readonly darkSinceMs: number | null;
  readonly night: boolean;
  /** The PV limit held through this night (W, total). */
  readonly holdW: number | null;
}
export const NIGHT_START: NightState = { darkSinceMs: null, night: false, holdW: null };

export interface NightInput {
  /** Total PV production now (W). */
  readonly pvW: number;
  /** The PV limit read back (W, total), when reported. */
  readonly limitW: number | undefined;
  /** The last release step was not taken up (zero export is backing off). */
  readonly probeFailed: boolean;
  readonly nowMs: number;
  readonly timeZone: string | undefined;
  readonly baseWatchW: number;
}

export function pvNight(st: NightState, i: NightInput, cfg: NightConfig = {}): { state: NightState; why: string | null } {
  const darkW = cfg.darkW ?? 20;
  const dark = i.pvW < darkW;
  const darkSinceMs = dark ? (st.darkSinceMs ?? i.nowMs) : null;
  const solarNight = cfg.daylight !== undefined && i.timeZone !== undefined && !inWindow(i.nowMs, i.timeZone, cfg.daylight);
  const proven = (i.limitW !== undefined && i.limitW >= darkW + 50) || i.probeFailed;
  const measuredNight = dark && darkSinceMs !== null && i.nowMs - darkSinceMs >= (cfg.afterMs ?? 600_000) && proven;
  const night = dark && (solarNight || (st.night ? true : measuredNight));
  if (!night) return { state: { darkSinceMs, night: false, holdW: null }, why: null };
  const holdW = st.night && st.holdW !== null ? st.holdW : Math.max(cfg.watchW ?? i.baseWatchW, i.limitW ?? 0);
  const since = darkSinceMs === null ? '' : ` since ${new Date(darkSinceMs).toISOString()}`;
  const dl = solarNight ? cfg.daylight : undefined;
  const why = dl ? `night by solar time (outside ${dl.from}-${dl.to})` : `night: PV under ${darkW} W${since}`;
  return { state: { darkSinceMs, night: true, holdW }, why };
}

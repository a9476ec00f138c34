import type { DerReport } from '../der-reports.js';
import type { Procedure } from './procedure.js';

/**
 * The tester's hands: some procedure steps ask the person running CACTUS to act on the DER (disconnect
 * it, stop it generating) and then wait for the client to report the change. The runner's DER is
 * simulated, so it carries out those instructions itself when their step becomes active, exactly as
 * worded; the client then sees the changed DER through its reports like any other change. Instructions
 * it cannot carry out faithfully make the procedure UNSUPPORTED with the reason; instructions that only
 * ask the tester to watch ("DER should ramp…") are not tester actions and are left out, as in CACTUS.
 */

/** What the tester has done to the DER so far. */
export interface TesterState {
  /** Disconnected from the grid by the tester (an isolator). */
  readonly gridConnected: boolean;
  /** Its power source or sink set to 0 W by the tester. */
  readonly generating: boolean;
  /** The maximum active power the tester set in the DER's own settings (W); undefined: as shipped. */
  readonly setMaxW?: number;
}

export const INITIAL_TESTER_STATE: TesterState = { gridConnected: true, generating: true };

type Effect = (s: TesterState, der: DerReport) => TesterState;

/** Tester instructions the runner carries out, by their exact text in the procedures. */
const ACTIONS: ReadonlyMap<string, Effect> = new Map<string, Effect>([
  ['Disconnect all DER from the grid.', (s) => ({ ...s, gridConnected: false })],
  ['Reconnect all DER to the grid.', (s) => ({ ...s, gridConnected: true })],
  ['Stop DER from generating or consuming active power. (e.g. power source/sink is set to 0W)', (s) => ({ ...s, generating: false })],
  ['Re-enable ability of DER to generate or consume active power.', (s) => ({ ...s, generating: true })],
  // The runner's site has one DER: that one's setMaxW, lowered to 80 % of what it was.
  ['Modify the maximum rating of one DER in the device settings.', (s, der) => ({ ...s, setMaxW: Math.round(der.settings.setMaxW * 0.8) })],
]);

/** Tester instructions the runner cannot carry out faithfully, with the reason. */
const CANNOT: ReadonlyMap<string, string> = new Map([
  [
    'Power off one DER either by a hardware switch on the DER or by disconnection from the grid supply. Priority should be given to DER capable of generation.',
    "powering off one of several DER behind the EndDevice's one DER resource needs a site of several DER reported as one aggregate; the runner's site has one DER (a hybrid inverter) and the client reports each DER to its own DER resource",
  ],
]);

/** Why a procedure cannot be run faithfully because of its tester instructions (empty: it can). */
export function testerUnsupported(p: Procedure): string[] {
  const out: string[] = [];
  for (const st of Object.values(p.Steps))
    for (const i of st.instructions ?? []) {
      const why = CANNOT.get(i.trim());
      if (why !== undefined) out.push(`tester action "${i.trim()}": ${why}`);
    }
  return out;
}

/** The tester acts on each step that has become active since the last call (once per step). */
export class Tester {
  state: TesterState = INITIAL_TESTER_STATE;
  private readonly done = new Set<string>();

  constructor(
    private readonly procedure: Procedure,
    private readonly base: DerReport,
  ) {}

  /** Carries out the instructions of the steps now active; returns the names of the steps acted on. */
  act(active: Iterable<string>): string[] {
    const acted: string[] = [];
    for (const name of active) {
      if (this.done.has(name)) continue;
      this.done.add(name);
      for (const i of this.procedure.Steps[name]?.instructions ?? []) {
        const effect = ACTIONS.get(i.trim());
        if (effect) {
          this.state = effect(this.state, this.base);
          acted.push(name);
        }
      }
    }
    return acted;
  }

  /** The DER as the tester has left it: disconnected (connected and operating clear, mode off) or stopped (operating clear, mode off). */
  der(): DerReport {
    const s = this.state;
    const b = this.base;
    const running = s.gridConnected && s.generating;
    const bits =
      (b.status.genConnectStatus & ~0b101) | (s.gridConnected ? b.status.genConnectStatus & 0b001 : 0) | (running ? b.status.genConnectStatus & 0b100 : 0);
    return {
      ...b,
      settings: s.setMaxW === undefined ? b.settings : { ...b.settings, setMaxW: s.setMaxW },
      status: { ...b.status, genConnectStatus: bits, operationalModeStatus: running ? b.status.operationalModeStatus : 1 },
    };
  }
}

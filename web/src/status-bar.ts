import { byTestId, setText } from './dom.js';
import { clock } from './format.js';
import type { LinkState } from './live.js';

const LABEL: Record<LinkState, string> = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline' };

/** The connection indicator and "last update" clock in the header (markup in index.html). */
export class StatusBar {
  private readonly state: HTMLElement;
  private readonly last: HTMLElement;

  constructor(
    root: ParentNode,
    private tz: string,
  ) {
    const state = byTestId(root, 'conn-state');
    const last = byTestId(root, 'last-update');
    if (!state || !last) throw new Error('index.html lacks the status bar');
    this.state = state;
    this.last = last;
  }

  /** Hidden while signed out: there is no stream to report on. */
  show(visible: boolean): void {
    if (this.state.parentElement) this.state.parentElement.hidden = !visible;
  }

  setTimezone(tz: string): void {
    this.tz = tz;
  }

  setState(s: LinkState): void {
    this.state.dataset['state'] = s;
    setText(this.state, LABEL[s]);
  }

  setLastUpdate(ts: number): void {
    this.last.dataset['ts'] = String(ts);
    setText(this.last, `Last update ${clock(ts, this.tz)}`);
  }
}

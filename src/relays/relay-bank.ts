import type { RelayDriver, RelayResult, RelayState, SwitchOptions } from './relay-driver.js';

/** Where a customer meter's relay is: a module and a 1-based channel. */
export interface RelayPoint {
  readonly driver: RelayDriver;
  readonly channel: number;
}

/** The relays of a site, by the meter whose supply they switch. */
export class RelayBank {
  private readonly points = new Map<number, RelayPoint>();

  wire(meter: number, point: RelayPoint): void {
    this.points.set(meter, point);
  }

  has(meter: number): boolean {
    return this.points.has(meter);
  }

  open(meter: number, o: SwitchOptions = {}): Promise<RelayResult> {
    const p = this.point(meter);
    return p.driver.open(p.channel, o);
  }

  close(meter: number, o: SwitchOptions = {}): Promise<RelayResult> {
    const p = this.point(meter);
    return p.driver.close(p.channel, o);
  }

  state(meter: number): Promise<RelayState> {
    const p = this.point(meter);
    return p.driver.state(p.channel);
  }

  private point(meter: number): RelayPoint {
    const p = this.points.get(meter);
    if (!p) throw new RangeError(`no relay is wired to meter ${meter}`);
    return p;
  }
}

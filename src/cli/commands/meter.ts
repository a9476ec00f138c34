import { parseArgs } from 'node:util';
import { API_OPTIONS_HELP, ApiClient } from '../api-client.js';
import { UsageError } from '../usage-error.js';

export const METER_HELP = `mgos meter: add, change, disable and remove meters on the running system (no SSH, no restart)

  mgos meter list
  mgos meter add --id 12 --name floor1_reception --type 1phase [--bus bus1] [--ct 40] [--reason "..."]
  mgos meter disable 12 | enable 12 | remove 12 [--reason "..."]
  mgos meter suggest --type 1phase [--bus bus1]     next free address in the address plan

A new meter must answer and be stored within two poll cycles, or the change is rolled back.
${API_OPTIONS_HELP}`;

interface MeterRow {
  key: string;
  id: number;
  name: string;
  model: string;
  bus: string;
  enabled: boolean;
  quality: string | null;
}

export async function meterCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      user: { type: 'string' },
      id: { type: 'string' },
      name: { type: 'string' },
      type: { type: 'string' },
      bus: { type: 'string' },
      ct: { type: 'string' },
      role: { type: 'string' },
      reason: { type: 'string' },
    },
  });
  const api = new ApiClient({ url: v.url, user: v.user });
  const [action, target] = positionals;
  const key = target ? `meter${target.replace(/^meter/, '')}` : '';
  switch (action) {
    case 'list': {
      const { meters } = await api.request<{ meters: MeterRow[] }>('GET', '/api/meters');
      for (const m of meters)
        process.stdout.write(
          `${String(m.id).padStart(3)}  ${m.name.padEnd(24)} ${m.model.padEnd(8)} ${m.bus.padEnd(8)} ${m.enabled ? (m.quality ?? 'waiting') : 'disabled'}\n`,
        );
      return 0;
    }
    case 'add': {
      if (!v.id || !v.name || !v.type) throw new UsageError('add needs --id, --name and --type');
      process.stderr.write(`adding meter ${v.id}; waiting for it to answer (up to two poll cycles)...\n`);
      const body = {
        id: Number(v.id),
        name: v.name,
        type: v.type,
        ...(v.bus ? { bus: v.bus } : {}),
        ...(v.ct ? { ctRatio: Number(v.ct) } : {}),
        ...(v.role ? { role: v.role } : {}),
        ...(v.reason ? { reason: v.reason } : {}),
      };
      const r = await api.request<{ meter: MeterRow & { values: Record<string, { value: number }> }; configVersion: number }>('POST', '/api/meters', body);
      const volts = r.meter.values.Voltage_L1?.value;
      process.stdout.write(
        `meter ${r.meter.id} (${r.meter.name}) is live${volts !== undefined ? `: ${volts.toFixed(1)} V` : ''}; configuration version ${r.configVersion}\n`,
      );
      return 0;
    }
    case 'disable':
    case 'enable': {
      if (!key) throw new UsageError(`${action} needs the meter id`);
      const r = await api.request<{ configVersion: number }>('PATCH', `/api/meters/${key}`, {
        enabled: action === 'enable',
        ...(v.reason ? { reason: v.reason } : {}),
      });
      process.stdout.write(`${key} ${action}d; configuration version ${r.configVersion}\n`);
      return 0;
    }
    case 'remove': {
      if (!key) throw new UsageError('remove needs the meter id');
      const r = await api.request<{ configVersion: number }>('DELETE', `/api/meters/${key}${v.reason ? `?reason=${encodeURIComponent(v.reason)}` : ''}`);
      process.stdout.write(`${key} removed (its history is kept); configuration version ${r.configVersion}\n`);
      return 0;
    }
    case 'suggest': {
      const phases = v.type === '3phase' || v.type?.toUpperCase() === 'DTSU666' ? 3 : 1;
      const r = await api.request<{ address: number | null }>(
        'GET',
        `/api/address-plan/suggest?phases=${phases}${v.bus ? `&bus=${encodeURIComponent(v.bus)}` : ''}`,
      );
      process.stdout.write(`${r.address ?? 'no free address in the range'}\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown action "${action ?? ''}"; use list, add, disable, enable, remove or suggest`);
  }
}

import { request } from './api.js';
import type { Quality } from './types.js';

export interface FleetMeter {
  key: string;
  id: number;
  name: string;
  model: string;
  bus: string;
  enabled: boolean;
  quality: Quality | null;
  lastReadingTs: number | null;
  /** Share (0..1) of the readings expected over the last 24 h that were stored. */
  completeness: number | null;
  todayImportKWh: number | null;
  openAlarms: number;
  inventoryStatus: string | null;
  serial: string | null;
}

export interface FleetSite {
  id: string;
  name: string;
  meters: FleetMeter[];
}

export const fleetApi = {
  get: () => request<{ sites: FleetSite[] }>('GET', '/api/fleet'),
};

/** The field team's workflow, plus Decommissioned (an archived meter keeps its record and history). */
export const STATUSES = ['Unassigned', 'Assigned', 'Converted', 'Shipped', 'Installed', 'Commissioned', 'Decommissioned'] as const;
export type InventoryStatus = (typeof STATUSES)[number];

/**
 * Every allowed move, in one place. The workflow only goes forward; Decommissioned is reachable from
 * every live state and is final (a refurbished meter gets a fresh start through a new record).
 */
export const TRANSITIONS: Readonly<Record<InventoryStatus, readonly InventoryStatus[]>> = {
  Unassigned: ['Assigned', 'Decommissioned'],
  Assigned: ['Converted', 'Decommissioned'],
  Converted: ['Shipped', 'Decommissioned'],
  Shipped: ['Installed', 'Decommissioned'],
  Installed: ['Commissioned', 'Decommissioned'],
  Commissioned: ['Decommissioned'],
  Decommissioned: [],
};

export const canTransition = (from: InventoryStatus, to: InventoryStatus): boolean => TRANSITIONS[from].includes(to);

/** Why a move is refused: the current state and what is allowed from it. */
export function refusal(serial: string, from: InventoryStatus, to: InventoryStatus): string {
  const allowed = TRANSITIONS[from];
  const options = allowed.length > 0 ? `allowed from ${from}: ${allowed.join(', ')}` : `${from} is final; nothing is allowed from it`;
  return `meter ${serial} is ${from} and cannot go to ${to}; ${options}`;
}

/** States in which the meter holds its Modbus address (it is, or will be, on a bus). */
export const holdsAddress = (s: InventoryStatus): boolean => s !== 'Unassigned' && s !== 'Decommissioned';

/** Accepts any letter case, as spreadsheets are typed by hand. */
export function parseStatus(text: string): InventoryStatus | undefined {
  const t = text.trim().toLowerCase();
  return STATUSES.find((s) => s.toLowerCase() === t);
}

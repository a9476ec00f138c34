/** Roles in increasing power; each role may do everything the ones before it may. */
export const ROLES = ['viewer', 'operator', 'installer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const roleAllows = (held: Role, needed: Role): boolean => ROLES.indexOf(held) >= ROLES.indexOf(needed);

import type { User } from './types.js';

/** Roles in increasing power, as the server ranks them (src/auth/roles.ts): each may do what those before it may. */
export const ROLES = ['viewer', 'operator', 'installer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Whether `user` may do what needs `needed`. An unknown role may do nothing beyond viewing. */
export function can(user: User, needed: Role): boolean {
  const held = ROLES.findIndex((r) => r === user.role);
  return Math.max(held, 0) >= ROLES.indexOf(needed);
}

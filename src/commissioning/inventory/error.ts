/**
 * A refusal from the inventory. `kind` lets the HTTP layer pick 400 (bad input), 404 (no such meter)
 * or 409 (conflicts with the current state: workflow order, address already taken, serial exists).
 */
export class InventoryError extends Error {
  constructor(
    readonly kind: 'invalid' | 'not-found' | 'conflict',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Personal data shown to roles below operator: a phone or mobile-money number keeps its first three
 * digits (the country code, so a viewer still sees which network) and its last two; the rest is starred.
 */
export function maskPhone<T extends string | null | undefined>(phone: T): T {
  if (typeof phone !== 'string' || phone === '') return phone;
  const plus = phone.startsWith('+') ? '+' : '';
  const digits = phone.slice(plus.length);
  if (digits.length <= 5) return `${plus}${'*'.repeat(digits.length)}` as T;
  return `${plus}${digits.slice(0, 3)}${'*'.repeat(digits.length - 5)}${digits.slice(-2)}` as T;
}

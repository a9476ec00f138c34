/**
 * Register value types and word orders, apart from the profile schema so that decoding (block plans,
 * codecs) loads no zod: `mgos read` decodes without building the schema of every profile field.
 */

/** Register value types a profile may use; float32 etc. occupy two registers. */
export const REGISTER_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'float32'] as const;
export type RegisterType = (typeof REGISTER_TYPES)[number];

/** Word order of 32-bit values: ABCD = big-endian words (CHINT), CDAB = low word first. */
export const WORD_ORDERS = ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const;
export type WordOrder = (typeof WORD_ORDERS)[number];

export const registerWidth = (t: RegisterType): number => (t === 'int16' || t === 'uint16' ? 1 : 2);

/** SMS kinds and their texts. Amounts arrive formatted (currency and minor unit are billing's business). */
export type SmsMessage =
  | { readonly kind: 'receipt'; readonly name: string; readonly amount: string; readonly balance: string }
  | { readonly kind: 'low-balance'; readonly name: string; readonly balance: string }
  | { readonly kind: 'disconnect-warning'; readonly name: string; readonly balance: string }
  | { readonly kind: 'reconnect'; readonly name: string }
  /** To operators: an autonomous capability dropped to supervised and waits for a person. */
  | { readonly kind: 'escalation'; readonly site: string; readonly capability: string; readonly why: string };

export type SmsKind = SmsMessage['kind'];

/** Short enough for one 160-character SMS with typical names and amounts. */
export function renderSms(m: SmsMessage): string {
  switch (m.kind) {
    case 'receipt':
      return `Dear ${m.name}, we received ${m.amount}. Your balance is ${m.balance}. Thank you.`;
    case 'low-balance':
      return `Dear ${m.name}, your electricity balance is low: ${m.balance}. Please top up to stay connected.`;
    case 'disconnect-warning':
      return `Dear ${m.name}, your balance is ${m.balance}. Your supply will be disconnected unless you pay.`;
    case 'reconnect':
      return `Dear ${m.name}, your payment has been received and your electricity supply is restored.`;
    case 'escalation':
      return `${m.site}: ${m.capability} now waits for approval (L2) until someone confirms. ${m.why}`.slice(0, 160);
  }
}

import type { Intent } from './intent-store.js';
import type { PaymentProcessor } from './processor.js';
import type { ProviderName, ProviderTransaction, StatusResult } from './provider.js';

export interface ReconLine {
  readonly provider: ProviderName;
  readonly reference: string | null;
  readonly providerRef: string | null;
  readonly providerTxId: string | null;
  readonly ours: { state: Intent['state']; creditedGrossMinor: number | null } | null;
  readonly theirs: { status: StatusResult['status'] | 'unknown'; amountMinor: number | null } | null;
  readonly note: string;
}

export interface ReconReport {
  readonly fromMs: number;
  readonly toMs: number;
  readonly matched: ReconLine[];
  /** The provider collected money we have not credited. */
  readonly missingInOurBooks: ReconLine[];
  /** We credited money the provider does not confirm. */
  readonly missingAtProvider: ReconLine[];
  readonly amountMismatches: ReconLine[];
  /** Still pending on both sides; the sweeper will settle them. */
  readonly pending: ReconLine[];
  /** Providers we could not reach; their rows are not judged. */
  readonly errors: Array<{ provider: ProviderName; reference: string | null; error: string }>;
}

const PROVIDERS: ProviderName[] = ['mtn', 'airtel', 'pesapal', 'cash'];

/**
 * docs/payments.md#rules: compare what each provider says with what we hold. Where the API lists transactions (cash)
 * we walk the list; otherwise each intent of the period is re-queried.
 */
export async function reconcile(processor: PaymentProcessor, fromMs: number, toMs: number): Promise<ReconReport> {
  const r: ReconReport = { fromMs, toMs, matched: [], missingInOurBooks: [], missingAtProvider: [], amountMismatches: [], pending: [], errors: [] };
  for (const name of PROVIDERS) {
    let provider;
    try {
      provider = processor.provider(name);
    } catch {
      continue;
    }
    const intents = processor.store.inPeriod(fromMs, toMs, name);
    let listed: ProviderTransaction[] | null = null;
    try {
      listed = await provider.listTransactions(fromMs, toMs);
    } catch (err) {
      r.errors.push({ provider: name, reference: null, error: err instanceof Error ? err.message : String(err) });
    }
    const seen = new Set<string>();
    for (const i of intents) {
      let theirs: { status: StatusResult['status'] | 'unknown'; amountMinor: number | null };
      if (listed) {
        const t = listed.find((x) => x.providerRef === i.providerRef);
        theirs = t ? { status: t.status, amountMinor: t.amountMinor } : { status: 'unknown', amountMinor: null };
      } else if (i.providerRef) {
        try {
          const st = await provider.status(i.providerRef);
          theirs = st.known ? { status: st.status, amountMinor: st.amountMinor } : { status: 'unknown', amountMinor: null };
        } catch (err) {
          r.errors.push({ provider: name, reference: i.id, error: err instanceof Error ? err.message : String(err) });
          continue;
        }
      } else theirs = { status: 'unknown', amountMinor: null };
      if (i.providerRef) seen.add(i.providerRef);
      const line = (note: string): ReconLine => ({
        provider: name,
        reference: i.id,
        providerRef: i.providerRef,
        providerTxId: i.providerTxId,
        ours: { state: i.state, creditedGrossMinor: i.creditedGrossMinor },
        theirs,
        note,
      });
      const credited = i.state === 'successful';
      if (credited && theirs.status !== 'successful') r.missingAtProvider.push(line(`we credited ${i.creditedGrossMinor}; provider says ${theirs.status}`));
      else if (!credited && theirs.status === 'successful')
        r.missingInOurBooks.push(line(`provider collected ${theirs.amountMinor ?? i.payerPaysMinor}; we hold ${i.state}, nothing credited`));
      else if (credited && theirs.amountMinor !== null && theirs.amountMinor !== i.creditedGrossMinor)
        r.amountMismatches.push(line(`we credited ${i.creditedGrossMinor}; provider says ${theirs.amountMinor}`));
      else if (i.state === 'pending' && theirs.status !== 'failed') r.pending.push(line('pending'));
      else r.matched.push(line('matched'));
    }
    for (const t of listed ?? []) {
      if (seen.has(t.providerRef) || t.status !== 'successful') continue;
      r.missingInOurBooks.push({
        provider: name,
        reference: t.reference,
        providerRef: t.providerRef,
        providerTxId: t.providerTxId,
        ours: null,
        theirs: { status: t.status, amountMinor: t.amountMinor },
        note: `provider lists ${t.amountMinor} ${t.currency} we never recorded`,
      });
    }
  }
  return r;
}

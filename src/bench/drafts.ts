/**
 * Ledger-entry-shaped drafts on the Observability scroll (whose bodies are free-form), each line
 * about LINE_BYTES bytes, deterministically.
 */
import { sealDraft, validateDraft, type ReceiptDraft } from '../core/receipt.js';
import { seededRandom } from './stats.js';

export const LINE_BYTES = 400;

export const BENCH_SCROLL = 'observability';
/** The type a tenth of the drafts have: what the query benchmark looks for. */
export const RARE_TYPE = 'obs_alert_fired';
type BenchType = 'obs_metric_snapshot' | 'obs_log_batch' | typeof RARE_TYPE;
const TYPES: readonly BenchType[] = ['obs_metric_snapshot', 'obs_log_batch', RARE_TYPE];

/** Makes the drafts; memos are padded per type so that every line is ≈ LINE_BYTES long. */
export class DraftFactory {
  private readonly random: () => number;
  private readonly memoLength = new Map<BenchType, number>();

  /** `issuer` is the DID the ledger will stamp (it is part of the line, so of its length). */
  constructor(issuer: string, seed = 1) {
    this.random = seededRandom(seed);
    for (const type of TYPES) {
      const probe = this.body(type, 500_000, 'EUR', '1234.56', 'acct-0001', '');
      const draft: ReceiptDraft = { scroll: BENCH_SCROLL, type, body: probe, tags: this.tags(500_000) };
      const { line } = sealDraft(validateDraft(draft), 500_000, '2026-01-01T00:00:00.000Z', issuer);
      this.memoLength.set(type, Math.max(0, LINE_BYTES - Buffer.byteLength(line)));
    }
  }

  /** Drafts for receipts `first` to `first + count - 1`: 45%, 45% and 10% (RARE_TYPE) of the types. */
  batch(first: number, count: number): ReceiptDraft[] {
    const drafts: ReceiptDraft[] = [];
    for (let i = first; i < first + count; i++) drafts.push(this.draft(i));
    return drafts;
  }

  draft(i: number): ReceiptDraft {
    const r = this.random();
    const type: BenchType = r < 0.45 ? 'obs_metric_snapshot' : r < 0.9 ? 'obs_log_batch' : RARE_TYPE;
    const account = `acct-${String(Math.floor(this.random() * 500)).padStart(4, '0')}`;
    const amount = (1 + this.random() * 9998).toFixed(2);
    const currency = this.random() < 0.8 ? 'EUR' : 'USD';
    const memo = `invoice ${i} for ${account} `.padEnd(this.memoLength.get(type)!, '.');
    return {
      scroll: BENCH_SCROLL,
      type,
      body: this.body(type, i, currency, amount, account, memo),
      tags: this.tags(i),
    };
  }

  private body(
    type: BenchType,
    i: number,
    currency: string,
    amount: string,
    account: string,
    memo: string,
  ): Record<string, string> {
    const entry = { entry_id: `e-${String(i).padStart(8, '0')}`, account, amount, currency, memo };
    return type === RARE_TYPE
      ? { ...entry, settlement_id: `s-${String(i).padStart(8, '0')}`, status: 'applied' }
      : entry;
  }

  private tags(i: number): string[] {
    return ['bench', `desk-${i % 8}`];
  }
}

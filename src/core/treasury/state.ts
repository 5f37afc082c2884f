/**
 * What the Treasury scroll derives (DESIGN §6): accounts with their balances, the entry ids taken
 * (the idempotency keys), and each settlement with its signatures. Balances are bigint minor units
 * here and decimal strings in receipts and caches.
 */
import type { JsonValue } from '../canonical.js';
import type { FoldAnomaly } from '../fold.js';
import type { AccountType, SettlementContract, SignatureRecord } from '../scrolls/treasury.js';
import { formatAmount, type Currency } from './money.js';

export interface TreasuryAccount {
  account_id: string;
  display_name: string;
  account_type: AccountType;
  currency: Currency;
  tags: string[];
  opened_seq: number;
  opened_at: string;
  balance: bigint;
  /** Entries applied to the account, settlements' included. */
  entries: number;
  last_seq: number;
}

/**
 * An entry id in use: where it was recorded and what it said, so a repeat can be told from a clash.
 * A proposed settlement holds its entries' ids from the proposal (`pending`) until it completes, or
 * releases them when it is disputed or expires.
 */
export interface EntryKey {
  seq: number;
  fingerprint: string;
  settlement_id?: string;
  pending?: true;
}

export interface RecordedSignature extends SignatureRecord {
  seq: number;
}

export type SettlementStatus = 'pending_signatures' | 'executing' | 'completed' | 'disputed' | 'expired';

export interface TreasurySettlement {
  settlement_id: string;
  contract: SettlementContract;
  contract_hash: string;
  proposed_seq: number;
  /** Set when the settlement closes: completed, disputed or expired, by the receipt at `closed_seq`. */
  closed?: {
    status: 'completed' | 'disputed' | 'expired';
    seq: number;
    at: string;
    reason?: string;
    by?: string;
  };
  signatures: RecordedSignature[];
}

export type TreasuryAnomaly = FoldAnomaly;

export interface TreasuryState {
  size: number;
  accounts: Map<string, TreasuryAccount>;
  entries: Map<string, EntryKey>;
  settlements: Map<string, TreasurySettlement>;
  anomalies: TreasuryAnomaly[];
}

export function initialTreasuryState(): TreasuryState {
  return { size: 0, accounts: new Map(), entries: new Map(), settlements: new Map(), anomalies: [] };
}

/**
 * The settlement's status at time `at`: a pending one with every required signature is
 * `executing` (ready to apply), and one whose deadline passed is `expired` even before a receipt
 * says so.
 */
export function settlementStatus(settlement: TreasurySettlement, at: string): SettlementStatus {
  if (settlement.closed !== undefined) return settlement.closed.status;
  if (Date.parse(at) >= Date.parse(settlement.contract.expires_at)) return 'expired';
  return missingSigners(settlement).length === 0 ? 'executing' : 'pending_signatures';
}

export function missingSigners(settlement: TreasurySettlement): string[] {
  const signed = new Set(settlement.signatures.map((s) => s.signer));
  return settlement.contract.requires_signatures.filter((d) => !signed.has(d));
}

export function balanceText(account: TreasuryAccount): string {
  return formatAmount(account.balance, account.currency);
}

interface EncodedAccount extends Omit<TreasuryAccount, 'balance'> {
  balance_minor: string;
}

interface EncodedTreasuryState {
  size: number;
  accounts: EncodedAccount[];
  entries: [string, EntryKey][];
  settlements: TreasurySettlement[];
  anomalies: TreasuryAnomaly[];
}

export function encodeTreasuryState(state: TreasuryState): JsonValue {
  const encoded: EncodedTreasuryState = {
    size: state.size,
    accounts: [...state.accounts.values()].map(({ balance, ...rest }) => ({
      ...rest,
      balance_minor: balance.toString(),
    })),
    entries: [...state.entries],
    settlements: [...state.settlements.values()],
    anomalies: state.anomalies,
  };
  return JSON.parse(JSON.stringify(encoded)) as JsonValue;
}

export function decodeTreasuryState(value: JsonValue): TreasuryState {
  const encoded = value as unknown as EncodedTreasuryState;
  return {
    size: encoded.size,
    accounts: new Map(
      encoded.accounts.map(({ balance_minor, ...rest }) => [
        rest.account_id,
        { ...rest, balance: BigInt(balance_minor) },
      ]),
    ),
    entries: new Map(encoded.entries),
    settlements: new Map(encoded.settlements.map((s) => [s.settlement_id, s])),
    anomalies: encoded.anomalies,
  };
}

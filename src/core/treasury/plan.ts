/**
 * The receipt each Treasury operation records, decided on the current books: bodies are complete
 * (an entry carries the balance it leaves, a completed settlement every entry, its net flow and
 * its signatures), and a change that breaks a rule is refused with the rule's code before
 * anything is written.
 */
import type { JsonObject } from '../canonical.js';
import { refusal } from '../fold.js';
import type {
  AccountOpenBody,
  EntryBody,
  SettlementBody,
  SettlementContract,
  SignatureBody,
  SignatureRecord,
} from '../scrolls/treasury.js';
import { contractHash, signatureFields } from './contract.js';
import { formatAmount, type Currency } from './money.js';
import {
  accountViolation,
  balanceAfter,
  entryFingerprint,
  isViolation,
  manifestHash,
  readyViolation,
  settlementEffect,
  signaturesManifest,
  violation,
  type EntryKind,
  type TreasuryChange,
} from './rules.js';
import type { EntryKey, TreasurySettlement, TreasuryState } from './state.js';

export interface TreasuryDraft {
  type: TreasuryChange['type'];
  body: JsonObject;
  tags: string[];
}

function decided(state: TreasuryState, change: TreasuryChange, at: string, tags: string[]): TreasuryDraft {
  const broken = violation(state, change, at);
  if (broken !== undefined) throw refusal(broken);
  return { type: change.type, body: change.body as unknown as JsonObject, tags: ['treasury', ...tags] };
}

export function planAccountOpen(state: TreasuryState, body: AccountOpenBody, at: string): TreasuryDraft {
  return decided(state, { type: 'treasury_account_open', body }, at, ['account', body.account_type]);
}

export interface EntrySpec {
  entry_id: string;
  account: string;
  amount: bigint;
  currency: Currency;
  memo: string;
}

/**
 * The entry's receipt, or — when the same entry id was recorded before with the same content —
 * the earlier record, so that a retried command records it once. Tags label the receipt; they are
 * not part of what makes two entries the same.
 * @throws VaultMeshError ENTRY_CONFLICT when the id was recorded with other content.
 */
export function planEntry(
  state: TreasuryState,
  kind: EntryKind,
  entry: EntrySpec,
  at: string,
  tags: readonly string[] = [],
): { draft: TreasuryDraft } | { recorded: EntryKey } {
  const amount = formatAmount(entry.amount, entry.currency);
  const fields = { account: entry.account, amount, currency: entry.currency, memo: entry.memo };
  const taken = state.entries.get(entry.entry_id);
  if (taken?.settlement_id === undefined && taken?.fingerprint === entryFingerprint({ kind, ...fields }))
    return { recorded: taken };
  const unknown = accountViolation(state, entry.account, entry.currency, 'account');
  if (unknown !== undefined) throw refusal(unknown);
  const after = balanceAfter(state.accounts.get(entry.account)!, kind, entry.amount);
  if (isViolation(after)) throw refusal(after);
  const body: EntryBody = {
    entry_id: entry.entry_id,
    ...fields,
    balance_after: formatAmount(after, entry.currency),
  };
  const type = kind === 'credit' ? 'treasury_credit' : 'treasury_debit';
  return { draft: decided(state, { type, body }, at, [kind, ...tags.filter((t) => t !== kind)]) };
}

export function planProposal(state: TreasuryState, contract: SettlementContract, at: string): TreasuryDraft {
  const body: SettlementBody = {
    settlement_id: contract.settlement_id,
    contract_hash: contractHash(contract),
    status: 'pending_signatures',
    contract,
  };
  return decided(state, { type: 'treasury_settlement', body }, at, ['settlement', 'proposed']);
}

export function planSignature(
  state: TreasuryState,
  settlement: TreasurySettlement,
  signature: SignatureRecord,
  at: string,
): TreasuryDraft {
  const body: SignatureBody = {
    settlement_id: settlement.settlement_id,
    contract_hash: settlement.contract_hash,
    ...signature,
  };
  return decided(state, { type: 'treasury_settlement_signature', body }, at, ['settlement', 'signature']);
}

/** The one receipt that applies every entry of the settlement, and the SIGNATURES.json it names. */
export function planCompletion(
  state: TreasuryState,
  settlement: TreasurySettlement,
  manifestPath: string,
  at: string,
): { draft: TreasuryDraft; manifest: string } {
  const { contract } = settlement;
  const notReady = readyViolation(state, settlement, at);
  if (notReady !== undefined) throw refusal(notReady);
  const effect = settlementEffect(state, contract);
  if (isViolation(effect)) throw refusal(effect);
  const manifest = signaturesManifest(settlement);
  const body: SettlementBody = {
    settlement_id: settlement.settlement_id,
    contract_hash: settlement.contract_hash,
    status: 'completed',
    title: contract.title,
    settlement_type: contract.settlement_type,
    parties: contract.parties,
    currency: contract.currency,
    timestamp_initiated: contract.initiated_at,
    timestamp_completed: at,
    entries: effect.entries,
    entries_count: effect.entries.length,
    net_flow: effect.net_flow,
    signatures: settlement.signatures.map(signatureFields),
    signatures_manifest: manifestPath,
    signatures_manifest_hash: manifestHash(manifest),
  };
  return {
    draft: decided(state, { type: 'treasury_settlement', body }, at, ['settlement', 'completed']),
    manifest,
  };
}

export function planDispute(
  state: TreasuryState,
  settlement: TreasurySettlement,
  reason: string,
  dispute: SignatureRecord,
  at: string,
): TreasuryDraft {
  const body: SettlementBody = {
    settlement_id: settlement.settlement_id,
    contract_hash: settlement.contract_hash,
    status: 'disputed',
    reason,
    dispute,
  };
  return decided(state, { type: 'treasury_settlement', body }, at, ['settlement', 'disputed']);
}

export function planExpiry(state: TreasuryState, settlement: TreasurySettlement, at: string): TreasuryDraft {
  const body: SettlementBody = {
    settlement_id: settlement.settlement_id,
    contract_hash: settlement.contract_hash,
    status: 'expired',
    expires_at: settlement.contract.expires_at,
  };
  return decided(state, { type: 'treasury_settlement', body }, at, ['settlement', 'expired']);
}

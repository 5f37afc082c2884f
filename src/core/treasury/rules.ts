/**
 * The Treasury's rules, in one place: the engine refuses a change that breaks one (nothing is
 * written) and the fold notes a recorded receipt that breaks one as an anomaly and leaves it out,
 * so the books are always books the engine could have kept. `at` is the time the change is judged
 * at: the engine's clock, or the receipt's `ts`.
 */
import { canonicalJson, type JsonValue } from '../canonical.js';
import { ruleBroken, type Violation } from '../fold.js';
import { formatHash, sha256 } from '../hash.js';
import type {
  AccountOpenBody,
  EntryBody,
  SettlementBody,
  SettlementContract,
  SignatureBody,
  SignatureRecord,
} from '../scrolls/treasury.js';
import {
  approvalStatement,
  contractHash,
  disputeStatement,
  signatureFields,
  signatureHolds,
} from './contract.js';
import { formatAmount, parseFormatted, type Currency } from './money.js';
import {
  missingSigners,
  settlementStatus,
  type TreasuryAccount,
  type TreasurySettlement,
  type TreasuryState,
} from './state.js';

export type EntryKind = 'credit' | 'debit';

export type TreasuryChange =
  | { type: 'treasury_account_open'; body: AccountOpenBody }
  | { type: 'treasury_credit' | 'treasury_debit'; body: EntryBody }
  | { type: 'treasury_settlement'; body: SettlementBody }
  | { type: 'treasury_settlement_signature'; body: SignatureBody };

const broken = ruleBroken;

export function accountViolation(
  state: TreasuryState,
  accountId: string,
  currency: string,
  field: string,
): Violation | undefined {
  const account = state.accounts.get(accountId);
  if (account === undefined)
    return broken(
      'UNKNOWN_ACCOUNT',
      `${field}: there is no account ${accountId}`,
      `open it first: vm treasury account open ${accountId} --type operational --currency ${currency}`,
    );
  if (account.currency !== currency)
    return broken(
      'CURRENCY_MISMATCH',
      `${field}: account ${accountId} keeps ${account.currency}, not ${currency}`,
      `record ${account.currency} amounts on ${accountId}, or use an account in ${currency}`,
    );
  return undefined;
}

/** What identifies an entry's content: the same id with the same fingerprint is the same entry. */
export function entryFingerprint(entry: {
  kind: EntryKind;
  account: string;
  amount: string;
  currency: string;
  memo: string;
}): string {
  const { kind, account, amount, currency, memo } = entry;
  return canonicalJson({ kind, account, amount, currency, memo });
}

export function entryIdViolation(
  state: TreasuryState,
  entryId: string,
  field: string,
): Violation | undefined {
  const taken = state.entries.get(entryId);
  if (taken === undefined) return undefined;
  const where =
    taken.settlement_id === undefined
      ? `is already recorded (seq ${taken.seq})`
      : taken.pending
        ? `is held by settlement ${taken.settlement_id}, proposed at seq ${taken.seq}`
        : `is already recorded by settlement ${taken.settlement_id} (seq ${taken.seq})`;
  return broken(
    'ENTRY_CONFLICT',
    `${field}: entry ${entryId} ${where}`,
    'an entry id names one entry: give a new --entry-id for a different entry',
  );
}

/** The balance once `kind` of `amount` is applied, or the overdraft it would cause. */
export function balanceAfter(
  account: TreasuryAccount,
  kind: EntryKind,
  amount: bigint,
  balance = account.balance,
): bigint | Violation {
  const after = kind === 'credit' ? balance + amount : balance - amount;
  if (after < 0n && account.account_type !== 'external')
    return broken(
      'INSUFFICIENT_FUNDS',
      `account ${account.account_id} holds ${formatAmount(balance, account.currency)} ${account.currency}; a debit of ${formatAmount(amount, account.currency)} would overdraw it`,
      `credit ${account.account_id} first, or debit at most ${formatAmount(balance, account.currency)}; only external accounts go below zero`,
    );
  return after;
}

function amountOf(text: string, currency: Currency, field: string): bigint | Violation {
  const amount = parseFormatted(text, currency);
  if (amount === undefined || amount <= 0n)
    return broken(
      'INVALID_ARGUMENT',
      `${field}: ${text} is not a positive ${currency} amount with exactly its decimal places`,
      `write it as the engine does, e.g. ${formatAmount(1250n, currency)}`,
    );
  return amount;
}

export const isViolation = (value: unknown): value is Violation =>
  typeof value === 'object' && value !== null && 'code' in value;

function entryViolation(state: TreasuryState, kind: EntryKind, body: EntryBody): Violation | undefined {
  const unknown = accountViolation(state, body.account, body.currency, 'account');
  if (unknown !== undefined) return unknown;
  const clash = entryIdViolation(state, body.entry_id, 'entry_id');
  if (clash !== undefined) return clash;
  const amount = amountOf(body.amount, body.currency, 'amount');
  if (isViolation(amount)) return amount;
  const after = balanceAfter(state.accounts.get(body.account)!, kind, amount);
  if (isViolation(after)) return after;
  if (formatAmount(after, body.currency) !== body.balance_after)
    return broken(
      'BALANCE_MISMATCH',
      `balance_after: the entry leaves ${body.account} at ${formatAmount(after, body.currency)}, not ${body.balance_after}`,
      'the receipt was not written by the Treasury engine: check the scroll with vm verify',
    );
  return undefined;
}

/** Why a contract cannot be settled on these books, or undefined when it can. */
export function contractViolation(state: TreasuryState, contract: SettlementContract): Violation | undefined {
  if (Date.parse(contract.expires_at) <= Date.parse(contract.initiated_at))
    return broken(
      'INVALID_CONTRACT',
      'expires_at: the settlement would expire before it starts',
      'give --expires a later time',
    );
  for (const [list, field] of [
    [contract.parties, 'parties'],
    [contract.requires_signatures, 'requires_signatures'],
  ] as const) {
    const repeated = list.find((d, i) => list.indexOf(d) !== i);
    if (repeated !== undefined)
      return broken('INVALID_CONTRACT', `${field}: ${repeated} is named twice`, 'name each DID once');
  }
  const ids = new Set<string>();
  let credits = 0n;
  let debits = 0n;
  for (const [i, entry] of contract.entries.entries()) {
    const field = `entries[${i}]`;
    if (entry.currency !== contract.currency)
      return broken(
        'CURRENCY_MISMATCH',
        `${field}.currency: ${entry.currency} in a ${contract.currency} settlement`,
        'settle one currency at a time: split the entries into one settlement per currency',
      );
    const account = accountViolation(state, entry.account, entry.currency, `${field}.account`);
    if (account !== undefined) return account;
    if (ids.has(entry.entry_id))
      return broken(
        'ENTRY_CONFLICT',
        `${field}.entry_id: ${entry.entry_id} is used twice`,
        'give each entry its own id',
      );
    ids.add(entry.entry_id);
    const clash = entryIdViolation(state, entry.entry_id, `${field}.entry_id`);
    if (clash !== undefined) return clash;
    const amount = amountOf(entry.amount, entry.currency, `${field}.amount`);
    if (isViolation(amount)) return amount;
    if (entry.entry_type === 'credit') credits += amount;
    else debits += amount;
  }
  if (credits !== debits)
    return broken(
      'UNBALANCED_SETTLEMENT',
      `the entries credit ${formatAmount(credits, contract.currency)} and debit ${formatAmount(debits, contract.currency)} ${contract.currency}; a settlement moves money, so they must be equal`,
      'add the missing side (an external account stands for the world outside the books)',
    );
  return undefined;
}

export interface SettlementEffect {
  entries: (SettlementContract['entries'][number] & { balance_after: string })[];
  net_flow: Record<string, string>;
  balances: Map<string, bigint>;
}

/** Every entry applied in order, all or none: the balances they leave, or the first overdraft. */
export function settlementEffect(
  state: TreasuryState,
  contract: SettlementContract,
): SettlementEffect | Violation {
  const balances = new Map<string, bigint>();
  const entries: SettlementEffect['entries'] = [];
  for (const entry of contract.entries) {
    const account = state.accounts.get(entry.account)!;
    const amount = parseFormatted(entry.amount, contract.currency)!;
    const after = balanceAfter(
      account,
      entry.entry_type,
      amount,
      balances.get(entry.account) ?? account.balance,
    );
    if (isViolation(after)) return after;
    balances.set(entry.account, after);
    entries.push({ ...entry, balance_after: formatAmount(after, contract.currency) });
  }
  return { entries, net_flow: netFlow(contract), balances };
}

/** Per account, the contract's credits less its debits, in its currency, accounts in order. */
export function netFlow(contract: SettlementContract): Record<string, string> {
  const flows = new Map<string, bigint>();
  for (const entry of contract.entries) {
    const amount = parseFormatted(entry.amount, contract.currency) ?? 0n;
    flows.set(
      entry.account,
      (flows.get(entry.account) ?? 0n) + (entry.entry_type === 'credit' ? amount : -amount),
    );
  }
  return Object.fromEntries(
    [...flows].sort(([a], [b]) => (a < b ? -1 : 1)).map(([a, f]) => [a, formatAmount(f, contract.currency)]),
  );
}

/** SIGNATURES.json of a settlement: regenerated from the scroll, byte for byte, at any time. */
export function signaturesManifest(settlement: TreasurySettlement): string {
  const manifest = {
    settlement_id: settlement.settlement_id,
    contract_hash: settlement.contract_hash,
    statement: approvalStatement(settlement.contract_hash),
    requires_signatures: settlement.contract.requires_signatures,
    signatures: settlement.signatures,
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export function manifestHash(text: string): string {
  return formatHash('sha256', sha256(new TextEncoder().encode(text)));
}

export function settlementOf(state: TreasuryState, id: string): TreasurySettlement | Violation {
  const settlement = state.settlements.get(id);
  if (settlement === undefined)
    return broken(
      'UNKNOWN_SETTLEMENT',
      `there is no settlement ${id}`,
      'list them with: vm treasury settle list',
    );
  return settlement;
}

/** The settlement must still take signatures, a dispute or its execution. */
export function openViolation(settlement: TreasurySettlement, at: string): Violation | undefined {
  const status = settlementStatus(settlement, at);
  if (settlement.closed !== undefined)
    return broken(
      'SETTLEMENT_CLOSED',
      `settlement ${settlement.settlement_id} is ${status} (seq ${settlement.closed.seq})`,
      'a closed settlement does not change: propose a new one',
    );
  if (status === 'expired')
    return broken(
      'SETTLEMENT_EXPIRED',
      `settlement ${settlement.settlement_id} expired at ${settlement.contract.expires_at}`,
      'propose it again with a later --expires',
    );
  return undefined;
}

function signatureViolation(state: TreasuryState, body: SignatureBody, at: string): Violation | undefined {
  const settlement = settlementOf(state, body.settlement_id);
  if (isViolation(settlement)) return settlement;
  if (body.contract_hash !== settlement.contract_hash)
    return broken(
      'SIGNATURE_INVALID',
      `contract_hash: ${body.contract_hash} is not settlement ${body.settlement_id}'s ${settlement.contract_hash}`,
      'sign the contract hash shown by: vm treasury settle show ' + body.settlement_id,
    );
  const closed = openViolation(settlement, at);
  if (closed !== undefined) return closed;
  if (!settlement.contract.requires_signatures.includes(body.signer))
    return broken(
      'UNAUTHORIZED_SIGNER',
      `signer: ${body.signer} is not among the signers settlement ${body.settlement_id} requires`,
      `the contract requires ${settlement.contract.requires_signatures.join(', ')}`,
    );
  const earlier = settlement.signatures.find((s) => s.signer === body.signer);
  if (earlier !== undefined)
    return broken(
      'DUPLICATE_SIGNATURE',
      `signer: ${body.signer} already signed settlement ${body.settlement_id} (seq ${earlier.seq})`,
      `one signature per signer; still missing: ${missingSigners(settlement).join(', ') || 'none (execute it)'}`,
    );
  if (!signatureHolds(body, approvalStatement(settlement.contract_hash)))
    return broken(
      'SIGNATURE_INVALID',
      `signature: not ${body.signer}'s Ed25519 signature (key ${body.kid}) of the settlement's approval statement`,
      `sign the exact bytes "${approvalStatement(settlement.contract_hash)}" with the key of ${body.kid}`,
    );
  return undefined;
}

const recorded = (signatures: readonly SignatureRecord[]) =>
  canonicalJson(signatures.map(signatureFields) as unknown as JsonValue);

/** The settlement must be open, signed by every required signer, and still hold its entry ids. */
export function readyViolation(
  state: TreasuryState,
  settlement: TreasurySettlement,
  at: string,
): Violation | undefined {
  const closed = openViolation(settlement, at);
  if (closed !== undefined) return closed;
  const missing = missingSigners(settlement);
  if (missing.length > 0)
    return broken(
      'SETTLEMENT_NOT_READY',
      `settlement ${settlement.settlement_id} still needs the signatures of ${missing.join(', ')}`,
      `each signs it with: vm treasury settle sign ${settlement.settlement_id} --as <did>`,
    );
  for (const entry of settlement.contract.entries) {
    if (state.entries.get(entry.entry_id)?.settlement_id !== settlement.settlement_id)
      return entryIdViolation(state, entry.entry_id, 'entry_id');
  }
  return undefined;
}

function completionViolation(
  state: TreasuryState,
  settlement: TreasurySettlement,
  body: Extract<SettlementBody, { status: 'completed' }>,
  at: string,
): Violation | undefined {
  const notReady = readyViolation(state, settlement, at);
  if (notReady !== undefined) return notReady;
  const effect = settlementEffect(state, settlement.contract);
  if (isViolation(effect)) return effect;
  const expected = {
    entries: effect.entries,
    net_flow: effect.net_flow,
    signatures: recorded(settlement.signatures),
    manifest: manifestHash(signaturesManifest(settlement)),
  };
  const actual = {
    entries: body.entries,
    net_flow: body.net_flow,
    signatures: recorded(body.signatures),
    manifest: body.signatures_manifest_hash,
  };
  if (
    canonicalJson(expected as unknown as JsonValue) !== canonicalJson(actual as unknown as JsonValue) ||
    body.entries_count !== effect.entries.length
  )
    return broken(
      'BALANCE_MISMATCH',
      `the completed settlement ${settlement.settlement_id} does not record what its contract and signatures apply`,
      'the receipt was not written by the Treasury engine: check the scroll with vm verify',
    );
  return undefined;
}

function settlementViolation(state: TreasuryState, body: SettlementBody, at: string): Violation | undefined {
  if (body.status === 'pending_signatures') {
    if (state.settlements.has(body.settlement_id))
      return broken(
        'SETTLEMENT_EXISTS',
        `settlement_id: ${body.settlement_id} is already proposed`,
        'give the new settlement its own --id',
      );
    if (
      body.contract.settlement_id !== body.settlement_id ||
      contractHash(body.contract) !== body.contract_hash
    )
      return broken(
        'INVALID_CONTRACT',
        'contract_hash: not the hash of the contract recorded with it',
        'propose it with vm treasury settle propose',
      );
    return contractViolation(state, body.contract);
  }
  const settlement = settlementOf(state, body.settlement_id);
  if (isViolation(settlement)) return settlement;
  if (body.contract_hash !== settlement.contract_hash)
    return broken(
      'INVALID_CONTRACT',
      `contract_hash: not settlement ${body.settlement_id}'s`,
      'check the scroll with vm verify',
    );
  if (body.status === 'expired') {
    if (settlement.closed === undefined && settlementStatus(settlement, at) === 'expired') return undefined;
    return broken(
      'ILLEGAL_TRANSITION',
      `settlement ${body.settlement_id} is ${settlementStatus(settlement, at)}, not past its deadline ${settlement.contract.expires_at}`,
      'only an open settlement whose deadline has passed expires',
    );
  }
  if (body.status === 'completed') return completionViolation(state, settlement, body, at);
  const closed = openViolation(settlement, at);
  if (closed !== undefined) return closed;
  const { contract } = settlement;
  if (
    !contract.parties.includes(body.dispute.signer) &&
    !contract.requires_signatures.includes(body.dispute.signer)
  )
    return broken(
      'UNAUTHORIZED_SIGNER',
      `dispute.signer: ${body.dispute.signer} is neither a party nor a signer of settlement ${body.settlement_id}`,
      `the parties are ${contract.parties.join(', ')}`,
    );
  if (!signatureHolds(body.dispute, disputeStatement(settlement.contract_hash, body.reason)))
    return broken(
      'SIGNATURE_INVALID',
      `dispute.signature: not ${body.dispute.signer}'s signature of the dispute statement`,
      `sign the exact bytes "${disputeStatement(settlement.contract_hash, body.reason)}"`,
    );
  return undefined;
}

export function violation(state: TreasuryState, change: TreasuryChange, at: string): Violation | undefined {
  switch (change.type) {
    case 'treasury_account_open':
      return state.accounts.has(change.body.account_id)
        ? broken(
            'ACCOUNT_EXISTS',
            `account_id: account ${change.body.account_id} is already open (seq ${state.accounts.get(change.body.account_id)!.opened_seq})`,
            'give the new account its own id',
          )
        : undefined;
    case 'treasury_credit':
      return entryViolation(state, 'credit', change.body);
    case 'treasury_debit':
      return entryViolation(state, 'debit', change.body);
    case 'treasury_settlement':
      return settlementViolation(state, change.body, at);
    case 'treasury_settlement_signature':
      return signatureViolation(state, change.body, at);
  }
}

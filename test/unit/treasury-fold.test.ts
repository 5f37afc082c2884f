/**
 * The Treasury fold and its rules: the books a scroll of receipts derives (balances in bigint
 * minor units, entry ids, settlements and their signatures), what the plan functions refuse (a
 * refusal changes nothing), and how receipts that break a rule — possible only through the trusted
 * Ledger API — are noted as anomalies and move no money.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { canonicalJson, type JsonObject } from '../../src/core/canonical.js';
import { foldAll } from '../../src/core/fold.js';
import { blake3Tagged } from '../../src/core/hash.js';
import { encodePublicKeyMultibase } from '../../src/core/identity/did.js';
import { sealDraft, validateDraft, type Receipt } from '../../src/core/receipt.js';
import type {
  AccountOpenBody,
  AccountType,
  SettlementBody,
  SettlementContract,
  SignatureRecord,
} from '../../src/core/scrolls/treasury.js';
import { checkSettlementCase } from '../../src/core/treasury/case-check.js';
import {
  approvalStatement,
  contractHash,
  disputeStatement,
  encodeSignature,
} from '../../src/core/treasury/contract.js';
import { treasuryFold } from '../../src/core/treasury/fold.js';
import { formatAmount, parseAmount, type Currency } from '../../src/core/treasury/money.js';
import {
  planAccountOpen,
  planCompletion,
  planDispute,
  planEntry,
  planExpiry,
  planProposal,
  planSignature,
  type TreasuryDraft,
} from '../../src/core/treasury/plan.js';
import {
  entryFingerprint,
  isViolation,
  manifestHash,
  settlementEffect,
  signaturesManifest,
} from '../../src/core/treasury/rules.js';
import {
  decodeTreasuryState,
  encodeTreasuryState,
  initialTreasuryState,
  missingSigners,
  settlementStatus,
  type TreasurySettlement,
  type TreasuryState,
} from '../../src/core/treasury/state.js';
import { codeOf, errorOf } from '../helpers/errors.js';

const ISSUER = 'did:vm:node:vault-01';
const DAY = 86_400_000;

/**
 * A Treasury scroll in memory: `record` does what the engine does (plan on the current books,
 * validate the draft as the ledger would, seal it at the next seq and fold it in); `append` writes
 * any receipt, as the trusted Ledger API could. Every receipt is one second after the last.
 */
class Books {
  readonly receipts: Receipt[] = [];
  readonly state: TreasuryState = initialTreasuryState();
  private clock = Date.UTC(2026, 10, 23, 9, 0, 0);

  now(): string {
    return new Date(this.clock).toISOString();
  }

  advance(ms: number): void {
    this.clock += ms;
  }

  record(plan: (state: TreasuryState, at: string) => TreasuryDraft): Receipt {
    const at = this.now();
    const draft = plan(this.state, at);
    const validated = validateDraft({ scroll: 'treasury', ...draft });
    return this.fold(sealDraft(validated, this.receipts.length, at, ISSUER).receipt);
  }

  append(type: string, body: unknown): Receipt {
    return this.fold({
      body: body as JsonObject,
      issuer: ISSUER,
      root_hash: blake3Tagged(canonicalJson(body as JsonObject)),
      scroll: 'treasury',
      seq: this.receipts.length,
      tags: ['treasury'],
      ts: this.now(),
      type,
      v: 1,
    });
  }

  open(id: string, type: AccountType, currency: Currency): Receipt {
    const body: AccountOpenBody = {
      account_id: id,
      display_name: id,
      account_type: type,
      currency,
      tags: [],
    };
    return this.record((s, at) => planAccountOpen(s, body, at));
  }

  entry(kind: 'credit' | 'debit', account: string, amount: string, entryId: string, memo = 'm'): Receipt {
    const currency = this.state.accounts.get(account)?.currency ?? 'EUR';
    return this.record((s, at) => {
      const planned = planEntry(
        s,
        kind,
        { entry_id: entryId, account, amount: parseAmount(amount, currency), currency, memo },
        at,
      );
      if ('recorded' in planned) throw new Error(`entry ${entryId} was recorded already`);
      return planned.draft;
    });
  }

  settlement(id: string): TreasurySettlement {
    return this.state.settlements.get(id)!;
  }

  balance(account: string): string {
    const a = this.state.accounts.get(account)!;
    return formatAmount(a.balance, a.currency);
  }

  private fold(receipt: Receipt): Receipt {
    this.receipts.push(receipt);
    treasuryFold.apply(this.state, receipt);
    this.advance(1000);
    return receipt;
  }
}

interface Signer {
  did: string;
  kid: string;
  multibase: string;
  sign(statement: string, at: string): SignatureRecord;
}

function signer(name: string, seed: number): Signer {
  const secret = new Uint8Array(32).fill(seed);
  const did = `did:vm:human:${name}`;
  const kid = `${did}#key-1`;
  const multibase = encodePublicKeyMultibase(ed25519.getPublicKey(secret));
  return {
    did,
    kid,
    multibase,
    sign: (statement, at) => ({
      signer: did,
      kid,
      public_key_multibase: multibase,
      signature: encodeSignature(ed25519.sign(new TextEncoder().encode(statement), secret)),
      signed_at: at,
    }),
  };
}

const ALICE = signer('alice', 1);
const BOB = signer('bob', 2);
const CAROL = signer('carol', 3);

type Leg = ['debit' | 'credit', string, string];

function contractOf(
  books: Books,
  id: string,
  legs: Leg[],
  extra: Partial<SettlementContract> = {},
): SettlementContract {
  const at = books.now();
  const currency = extra.currency ?? 'EUR';
  return {
    settlement_id: id,
    title: `settlement ${id}`,
    settlement_type: 'vendor_payment',
    initiated_by: ALICE.did,
    initiated_at: at,
    expires_at: new Date(Date.parse(at) + 7 * DAY).toISOString(),
    currency,
    parties: [ALICE.did, BOB.did],
    entries: legs.map(([entry_type, account, amount], i) => ({
      entry_id: `${id}-${i + 1}`,
      entry_type,
      account,
      amount,
      currency,
      memo: 'invoice 42',
    })),
    requires_signatures: [ALICE.did, BOB.did],
    ...extra,
  };
}

const sign = (books: Books, id: string, who: Signer) =>
  books.record((s, at) =>
    planSignature(
      s,
      s.settlements.get(id)!,
      who.sign(approvalStatement(s.settlements.get(id)!.contract_hash), at),
      at,
    ),
  );

const complete = (books: Books, id: string) =>
  books.record(
    (s, at) => planCompletion(s, s.settlements.get(id)!, `cases/treasury/${id}/SIGNATURES.json`, at).draft,
  );

/** The completed receipt's body the engine would write, whether or not the rules allow it now. */
function completedBody(books: Books, id: string): Record<string, unknown> {
  const settlement = books.settlement(id);
  const effect = settlementEffect(books.state, settlement.contract);
  if (isViolation(effect)) throw new Error(effect.message);
  const { contract } = settlement;
  return {
    settlement_id: id,
    contract_hash: settlement.contract_hash,
    status: 'completed',
    title: contract.title,
    settlement_type: contract.settlement_type,
    parties: contract.parties,
    currency: contract.currency,
    timestamp_initiated: contract.initiated_at,
    timestamp_completed: books.now(),
    entries: effect.entries,
    entries_count: effect.entries.length,
    net_flow: effect.net_flow,
    signatures: settlement.signatures.map(({ seq: _seq, ...record }) => record),
    signatures_manifest: `cases/treasury/${id}/SIGNATURES.json`,
    signatures_manifest_hash: manifestHash(signaturesManifest(settlement)),
  };
}

/** ops-eur (operational) holding 100.50 EUR, vendor (external) and reserve-btc (reserve) at zero. */
function funded(): Books {
  const books = new Books();
  books.open('ops-eur', 'operational', 'EUR');
  books.open('vendor', 'external', 'EUR');
  books.open('reserve-btc', 'reserve', 'BTC');
  books.entry('credit', 'ops-eur', '100.50', 'e1');
  return books;
}

/** `funded` with settlement s1 (ops-eur pays vendor 60.00) proposed. */
function proposed(signers: Signer[] = []): Books {
  const books = funded();
  const contract = contractOf(books, 's1', [
    ['debit', 'ops-eur', '60.00'],
    ['credit', 'vendor', '60.00'],
  ]);
  books.record((s, at) => planProposal(s, contract, at));
  for (const who of signers) sign(books, 's1', who);
  return books;
}

/** The books without their size and anomalies: what a left-out receipt must not change. */
const money = (state: TreasuryState) =>
  JSON.stringify(encodeTreasuryState({ ...state, size: 0, anomalies: [] }));

/** Appends a receipt that breaks a rule; checks it was noted with `code` and moved nothing. */
function leftOut(books: Books, type: string, body: unknown, code: string): string {
  const before = money(books.state);
  const count = books.state.anomalies.length;
  const receipt = books.append(type, body);
  expect(books.state.anomalies, JSON.stringify(body)).toHaveLength(count + 1);
  const anomaly = books.state.anomalies.at(-1)!;
  expect({ seq: anomaly.seq, type: anomaly.type, code: anomaly.code }).toEqual({
    seq: receipt.seq,
    type,
    code,
  });
  expect(money(books.state)).toBe(before);
  expect(books.state.size).toBe(receipt.seq + 1);
  return anomaly.message;
}

/** The code a plan is refused with, after checking the refusal left the books as they were. */
function refusedWith(books: Books, plan: (s: TreasuryState, at: string) => unknown): string {
  const before = JSON.stringify(encodeTreasuryState(books.state));
  const code = codeOf(() => plan(books.state, books.now()));
  expect(JSON.stringify(encodeTreasuryState(books.state))).toBe(before);
  return code;
}

describe('accounts and entries', () => {
  it('folds opens, credits and debits into exact balances', () => {
    const books = funded();
    books.entry('debit', 'ops-eur', '40.25', 'e2');
    books.entry('credit', 'reserve-btc', '0.00000001', 'b1');
    books.entry('credit', 'reserve-btc', '20999999.99999999', 'b2');
    books.entry('debit', 'vendor', '10', 'v1');
    const { state } = books;
    expect(books.balance('ops-eur')).toBe('60.25');
    expect(state.accounts.get('ops-eur')!.balance).toBe(6025n);
    expect(books.balance('reserve-btc')).toBe('21000000.00000000');
    expect(state.accounts.get('reserve-btc')!.balance).toBe(2_100_000_000_000_000n);
    // Only an external account goes below zero: it stands for the world outside the books.
    expect(books.balance('vendor')).toBe('-10.00');
    expect(state.accounts.get('ops-eur')).toEqual({
      account_id: 'ops-eur',
      display_name: 'ops-eur',
      account_type: 'operational',
      currency: 'EUR',
      tags: [],
      opened_seq: 0,
      opened_at: books.receipts[0]!.ts,
      balance: 6025n,
      entries: 2,
      last_seq: 4,
    });
    expect(state.entries.get('e2')).toEqual({
      seq: 4,
      fingerprint: entryFingerprint({
        kind: 'debit',
        account: 'ops-eur',
        amount: '40.25',
        currency: 'EUR',
        memo: 'm',
      }),
    });
    expect(books.receipts.map((r) => [r.type, r.body.balance_after])).toEqual([
      ['treasury_account_open', undefined],
      ['treasury_account_open', undefined],
      ['treasury_account_open', undefined],
      ['treasury_credit', '100.50'],
      ['treasury_debit', '60.25'],
      ['treasury_credit', '0.00000001'],
      ['treasury_credit', '21000000.00000000'],
      ['treasury_debit', '-10.00'],
    ]);
    expect(books.receipts[4]!.tags).toEqual(['treasury', 'debit']);
    expect(state.size).toBe(8);
    expect(state.anomalies).toEqual([]);
    expect(foldAll(treasuryFold, books.receipts)).toEqual(state);
  });

  it('refuses an overdraft, an unknown account, another currency and a reused entry id, changing nothing', () => {
    const books = funded();
    const entry = (kind: 'credit' | 'debit', account: string, amount: bigint, id: string, currency = 'EUR') =>
      refusedWith(books, (s, at) =>
        planEntry(s, kind, { entry_id: id, account, amount, currency: currency as Currency, memo: 'm' }, at),
      );
    expect(entry('debit', 'ops-eur', 10051n, 'e2')).toBe('INSUFFICIENT_FUNDS');
    expect(entry('debit', 'reserve-btc', 1n, 'e2', 'BTC')).toBe('INSUFFICIENT_FUNDS');
    expect(entry('credit', 'nowhere', 1n, 'e2')).toBe('UNKNOWN_ACCOUNT');
    expect(entry('credit', 'ops-eur', 1n, 'e2', 'BTC')).toBe('CURRENCY_MISMATCH');
    expect(entry('credit', 'ops-eur', 1n, 'e1')).toBe('ENTRY_CONFLICT');
    expect(entry('debit', 'ops-eur', 10050n, 'e1')).toBe('ENTRY_CONFLICT');
    const open = {
      account_id: 'vendor',
      display_name: 'v',
      account_type: 'escrow',
      currency: 'EUR',
      tags: [],
    };
    expect(refusedWith(books, (s, at) => planAccountOpen(s, open as AccountOpenBody, at))).toBe(
      'ACCOUNT_EXISTS',
    );
    const error = errorOf(() =>
      planEntry(
        books.state,
        'debit',
        { entry_id: 'e9', account: 'ops-eur', amount: 10051n, currency: 'EUR', memo: '' },
        books.now(),
      ),
    );
    expect(error.message).toBe('account ops-eur holds 100.50 EUR; a debit of 100.51 would overdraw it');
    // Exactly the balance is not an overdraft.
    books.entry('debit', 'ops-eur', '100.50', 'e2');
    expect(books.balance('ops-eur')).toBe('0.00');
  });

  it('gives back the earlier record when the same entry is recorded again', () => {
    const books = funded();
    const planned = planEntry(
      books.state,
      'credit',
      { entry_id: 'e1', account: 'ops-eur', amount: 10050n, currency: 'EUR', memo: 'm' },
      books.now(),
    );
    expect(planned).toEqual({ recorded: books.state.entries.get('e1') });
    expect('recorded' in planned && planned.recorded.seq).toBe(3);
    // Tags label a receipt; they do not make a retry another entry.
    const tagged = planEntry(
      books.state,
      'credit',
      { entry_id: 'e1', account: 'ops-eur', amount: 10050n, currency: 'EUR', memo: 'm' },
      books.now(),
      ['payroll'],
    );
    expect(tagged).toEqual(planned);
  });

  it('labels an entry receipt with its kind and the tags given', () => {
    const books = funded();
    const planned = planEntry(
      books.state,
      'debit',
      { entry_id: 'e9', account: 'ops-eur', amount: 100n, currency: 'EUR', memo: 'fee' },
      books.now(),
      ['payroll', 'debit', 'q4'],
    );
    expect('draft' in planned && planned.draft.tags).toEqual(['treasury', 'debit', 'payroll', 'q4']);
  });
});

describe('receipts that break a rule are anomalies and move no money', () => {
  const entryBody = (extra: Record<string, unknown> = {}) => ({
    entry_id: 'e2',
    account: 'ops-eur',
    amount: '10.00',
    currency: 'EUR',
    memo: 'm',
    balance_after: '90.50',
    ...extra,
  });

  it('entries: overdraft, wrong balance_after, unknown account, currency, duplicate id, malformed amount', () => {
    const books = funded();
    expect(
      leftOut(
        books,
        'treasury_debit',
        entryBody({ amount: '500.00', balance_after: '-399.50' }),
        'INSUFFICIENT_FUNDS',
      ),
    ).toMatch(/ops-eur holds 100\.50 EUR; a debit of 500\.00 would overdraw it/);
    expect(leftOut(books, 'treasury_debit', entryBody({ balance_after: '95.50' }), 'BALANCE_MISMATCH')).toBe(
      'balance_after: the entry leaves ops-eur at 90.50, not 95.50',
    );
    expect(leftOut(books, 'treasury_credit', entryBody({ balance_after: '90.50' }), 'BALANCE_MISMATCH')).toBe(
      'balance_after: the entry leaves ops-eur at 110.50, not 90.50',
    );
    expect(
      leftOut(
        books,
        'treasury_credit',
        entryBody({ account: 'ghost', balance_after: '10.00' }),
        'UNKNOWN_ACCOUNT',
      ),
    ).toBe('account: there is no account ghost');
    leftOut(
      books,
      'treasury_credit',
      entryBody({ currency: 'BTC', amount: '1.00000000' }),
      'CURRENCY_MISMATCH',
    );
    expect(
      leftOut(
        books,
        'treasury_credit',
        entryBody({ entry_id: 'e1', balance_after: '110.50' }),
        'ENTRY_CONFLICT',
      ),
    ).toMatch(/^entry_id: entry e1 is already recorded \(seq 3\)/);
    // The same entry twice in the scroll moves its money once.
    leftOut(
      books,
      'treasury_credit',
      entryBody({ entry_id: 'e1', amount: '100.50', balance_after: '201.00' }),
      'ENTRY_CONFLICT',
    );
    leftOut(
      books,
      'treasury_credit',
      entryBody({ amount: '10.5', balance_after: '111.00' }),
      'INVALID_ARGUMENT',
    );
    leftOut(
      books,
      'treasury_credit',
      entryBody({ amount: '0.00', balance_after: '100.50' }),
      'INVALID_ARGUMENT',
    );
    leftOut(
      books,
      'treasury_credit',
      entryBody({ amount: '0', balance_after: '100.50' }),
      'INVALID_ARGUMENT',
    );
    leftOut(books, 'treasury_credit', entryBody({ amount: 10, balance_after: '110.50' }), 'INVALID_BODY');
    leftOut(books, 'treasury_credit', entryBody({ amount: '-10.00' }), 'INVALID_BODY');
    leftOut(books, 'treasury_credit', entryBody({ currency: 'XAU' }), 'INVALID_BODY');
    leftOut(books, 'treasury_transfer', entryBody(), 'INVALID_BODY');
    leftOut(
      books,
      'treasury_account_open',
      { account_id: 'ops-eur', display_name: 'again', account_type: 'reserve', currency: 'EUR', tags: [] },
      'ACCOUNT_EXISTS',
    );
    expect(books.balance('ops-eur')).toBe('100.50');
    expect(books.state.entries.get('e1')!.seq).toBe(3);
    expect(books.state.entries.has('e2')).toBe(false);
    // The next good entry is judged on the books as they are.
    books.entry('debit', 'ops-eur', '10.00', 'e2');
    expect(books.balance('ops-eur')).toBe('90.50');
    expect(foldAll(treasuryFold, books.receipts)).toEqual(books.state);
  });

  it('a completed settlement without its signatures', () => {
    const none = proposed();
    expect(leftOut(none, 'treasury_settlement', completedBody(none, 's1'), 'SETTLEMENT_NOT_READY')).toBe(
      `settlement s1 still needs the signatures of ${ALICE.did}, ${BOB.did}`,
    );
    const half = proposed([ALICE]);
    expect(leftOut(half, 'treasury_settlement', completedBody(half, 's1'), 'SETTLEMENT_NOT_READY')).toBe(
      `settlement s1 still needs the signatures of ${BOB.did}`,
    );
    expect(half.balance('ops-eur')).toBe('100.50');
    expect(half.balance('vendor')).toBe('0.00');
    expect(half.settlement('s1').closed).toBeUndefined();
  });

  it('signatures: forged, over another statement or hash, by a signer the contract does not require, twice', () => {
    const books = proposed();
    const hash = books.settlement('s1').contract_hash;
    const body = (record: SignatureRecord, extra: Record<string, unknown> = {}) => ({
      settlement_id: 's1',
      contract_hash: hash,
      ...record,
      ...extra,
    });
    const at = books.now();
    // Carol's signature presented as Alice's (Alice's DID and key, Carol's bytes).
    const forged = {
      ...ALICE.sign(approvalStatement(hash), at),
      signature: CAROL.sign(approvalStatement(hash), at).signature,
    };
    expect(leftOut(books, 'treasury_settlement_signature', body(forged), 'SIGNATURE_INVALID')).toMatch(
      /^signature: not did:vm:human:alice's Ed25519 signature/,
    );
    // Alice's own signature, but of the dispute statement: the domain keeps them apart.
    leftOut(
      books,
      'treasury_settlement_signature',
      body(ALICE.sign(disputeStatement(hash, 'x'), at)),
      'SIGNATURE_INVALID',
    );
    // Of another contract's hash.
    const other = `blake3:${'1'.repeat(64)}`;
    leftOut(
      books,
      'treasury_settlement_signature',
      body(ALICE.sign(approvalStatement(other), at)),
      'SIGNATURE_INVALID',
    );
    leftOut(
      books,
      'treasury_settlement_signature',
      body(ALICE.sign(approvalStatement(other), at), { contract_hash: other }),
      'SIGNATURE_INVALID',
    );
    // A key that is not Ed25519 multibase at all.
    leftOut(
      books,
      'treasury_settlement_signature',
      body(ALICE.sign(approvalStatement(hash), at), { public_key_multibase: `z${'1'.repeat(47)}` }),
      'SIGNATURE_INVALID',
    );
    expect(
      leftOut(
        books,
        'treasury_settlement_signature',
        body(CAROL.sign(approvalStatement(hash), at)),
        'UNAUTHORIZED_SIGNER',
      ),
    ).toBe(`signer: ${CAROL.did} is not among the signers settlement s1 requires`);
    leftOut(
      books,
      'treasury_settlement_signature',
      body(ALICE.sign(approvalStatement(hash), at), { settlement_id: 's9' }),
      'UNKNOWN_SETTLEMENT',
    );
    expect(books.settlement('s1').signatures).toEqual([]);
    const good = books.append('treasury_settlement_signature', body(ALICE.sign(approvalStatement(hash), at)));
    expect(books.settlement('s1').signatures.map((s) => [s.signer, s.seq])).toEqual([[ALICE.did, good.seq]]);
    expect(
      leftOut(
        books,
        'treasury_settlement_signature',
        body(ALICE.sign(approvalStatement(hash), books.now())),
        'DUPLICATE_SIGNATURE',
      ),
    ).toMatch(new RegExp(`already signed settlement s1 \\(seq ${good.seq}\\)`));
    expect(missingSigners(books.settlement('s1'))).toEqual([BOB.did]);
  });

  it('a completed settlement whose entries, net flow, signatures or manifest differ from the contract', () => {
    const books = proposed([ALICE, BOB]);
    const good = completedBody(books, 's1');
    const entries = good.entries as Array<Record<string, string>>;
    const variants: Array<Record<string, unknown>> = [
      {
        entries: [
          { ...entries[0], amount: '50.00', balance_after: '50.50' },
          { ...entries[1], amount: '50.00', balance_after: '50.00' },
        ],
      },
      { entries: [{ ...entries[0], balance_after: '41.50' }, entries[1]] },
      {
        entries: [
          { ...entries[0], account: 'vendor' },
          { ...entries[1], account: 'ops-eur' },
        ],
      },
      { entries: [entries[0]] },
      { entries: [entries[1], entries[0]] },
      { entries_count: 1 },
      { net_flow: { 'ops-eur': '-50.00', vendor: '50.00' } },
      { net_flow: {} },
      { signatures: [(good.signatures as SignatureRecord[])[0]] },
      { signatures: [(good.signatures as SignatureRecord[])[1], (good.signatures as SignatureRecord[])[0]] },
      { signatures_manifest_hash: `sha256:${'0'.repeat(64)}` },
    ];
    for (const change of variants)
      expect(leftOut(books, 'treasury_settlement', { ...good, ...change }, 'BALANCE_MISMATCH')).toBe(
        'the completed settlement s1 does not record what its contract and signatures apply',
      );
    leftOut(
      books,
      'treasury_settlement',
      { ...good, contract_hash: `blake3:${'2'.repeat(64)}` },
      'INVALID_CONTRACT',
    );
    leftOut(books, 'treasury_settlement', { ...good, settlement_id: 's9' }, 'UNKNOWN_SETTLEMENT');
    expect(books.settlement('s1').closed).toBeUndefined();
    expect(books.balance('ops-eur')).toBe('100.50');
    // The body the engine writes completes it.
    books.append('treasury_settlement', completedBody(books, 's1'));
    expect(books.balance('ops-eur')).toBe('40.50');
    expect(books.balance('vendor')).toBe('60.00');
    leftOut(books, 'treasury_settlement', good, 'SETTLEMENT_CLOSED');
  });

  it('a completed settlement that would overdraw an account spent since it was proposed', () => {
    const books = proposed([ALICE, BOB]);
    books.entry('debit', 'ops-eur', '50.00', 'e2');
    expect(refusedWith(books, (s, at) => planCompletion(s, s.settlements.get('s1')!, 'x', at))).toBe(
      'INSUFFICIENT_FUNDS',
    );
    const body = { ...completedBody(proposed([ALICE, BOB]), 's1'), timestamp_completed: books.now() };
    leftOut(books, 'treasury_settlement', body, 'INSUFFICIENT_FUNDS');
    expect(books.balance('ops-eur')).toBe('50.50');
    // The settlement still holds its entries' ids: it may complete once the account is funded.
    expect(books.state.entries.get('s1-1')).toMatchObject({ settlement_id: 's1', pending: true });
  });

  it('proposals: a hash that is not the contract’s, unbalanced or foreign entries, an id in use', () => {
    const books = funded();
    const contract = contractOf(books, 's1', [
      ['debit', 'ops-eur', '60.00'],
      ['credit', 'vendor', '60.00'],
    ]);
    const body = (c: SettlementContract, hash = contractHash(c)) => ({
      settlement_id: c.settlement_id,
      contract_hash: hash,
      status: 'pending_signatures',
      contract: c,
    });
    leftOut(books, 'treasury_settlement', body(contract, `blake3:${'3'.repeat(64)}`), 'INVALID_CONTRACT');
    leftOut(
      books,
      'treasury_settlement',
      body({ ...contract, title: 'changed' }, contractHash(contract)),
      'INVALID_CONTRACT',
    );
    leftOut(books, 'treasury_settlement', { ...body(contract), settlement_id: 's2' }, 'INVALID_CONTRACT');
    const unbalanced = contractOf(books, 's1', [
      ['debit', 'ops-eur', '60.00'],
      ['credit', 'vendor', '59.99'],
    ]);
    expect(leftOut(books, 'treasury_settlement', body(unbalanced), 'UNBALANCED_SETTLEMENT')).toMatch(
      /credit 59\.99 and debit 60\.00 EUR/,
    );
    const btc = contractOf(books, 's1', [
      ['debit', 'reserve-btc', '1.00'],
      ['credit', 'vendor', '1.00'],
    ]);
    leftOut(books, 'treasury_settlement', body(btc), 'CURRENCY_MISMATCH');
    leftOut(
      books,
      'treasury_settlement',
      body(
        contractOf(books, 's1', [
          ['debit', 'ghost', '1.00'],
          ['credit', 'vendor', '1.00'],
        ]),
      ),
      'UNKNOWN_ACCOUNT',
    );
    leftOut(
      books,
      'treasury_settlement',
      body(
        contractOf(books, 's1', [
          ['debit', 'ops-eur', '1.001'],
          ['credit', 'vendor', '1.001'],
        ]),
      ),
      'INVALID_ARGUMENT',
    );
    const reused = contractOf(books, 's1', [
      ['debit', 'ops-eur', '1.00'],
      ['credit', 'vendor', '1.00'],
    ]);
    reused.entries[1]!.entry_id = 'e1';
    leftOut(books, 'treasury_settlement', body(reused), 'ENTRY_CONFLICT');
    const twice = contractOf(books, 's1', [
      ['debit', 'ops-eur', '1.00'],
      ['credit', 'vendor', '1.00'],
    ]);
    twice.entries[1]!.entry_id = twice.entries[0]!.entry_id;
    expect(leftOut(books, 'treasury_settlement', body(twice), 'ENTRY_CONFLICT')).toBe(
      'entries[1].entry_id: s1-1 is used twice',
    );
    const late = { ...contract, expires_at: contract.initiated_at };
    leftOut(books, 'treasury_settlement', body(late), 'INVALID_CONTRACT');
    leftOut(
      books,
      'treasury_settlement',
      body({ ...contract, requires_signatures: [ALICE.did, ALICE.did] }),
      'INVALID_CONTRACT',
    );
    expect(books.state.settlements.size).toBe(0);
    books.append('treasury_settlement', body(contract));
    leftOut(books, 'treasury_settlement', body(contract), 'SETTLEMENT_EXISTS');
    expect(books.settlement('s1').proposed_seq).toBe(books.receipts.length - 2);
  });

  it('disputes: by an outsider or with a bad signature; a disputed settlement takes nothing more', () => {
    const books = proposed([ALICE]);
    const hash = books.settlement('s1').contract_hash;
    const dispute = (who: Signer, reason: string, signed = reason) => ({
      settlement_id: 's1',
      contract_hash: hash,
      status: 'disputed',
      reason,
      dispute: who.sign(disputeStatement(hash, signed), books.now()),
    });
    expect(leftOut(books, 'treasury_settlement', dispute(CAROL, 'no'), 'UNAUTHORIZED_SIGNER')).toMatch(
      /is neither a party nor a signer of settlement s1/,
    );
    leftOut(
      books,
      'treasury_settlement',
      dispute(BOB, 'wrong amount', 'something else'),
      'SIGNATURE_INVALID',
    );
    const approval = { ...dispute(BOB, 'x'), dispute: BOB.sign(approvalStatement(hash), books.now()) };
    leftOut(books, 'treasury_settlement', approval, 'SIGNATURE_INVALID');
    const disputed = books.record((s, at) =>
      planDispute(
        s,
        s.settlements.get('s1')!,
        'wrong amount',
        BOB.sign(disputeStatement(hash, 'wrong amount'), at),
        at,
      ),
    );
    expect(books.settlement('s1').closed).toEqual({
      status: 'disputed',
      seq: disputed.seq,
      at: disputed.ts,
      reason: 'wrong amount',
      by: BOB.did,
    });
    expect(
      refusedWith(books, (s, at) =>
        planSignature(s, s.settlements.get('s1')!, BOB.sign(approvalStatement(hash), at), at),
      ),
    ).toBe('SETTLEMENT_CLOSED');
    leftOut(
      books,
      'treasury_settlement_signature',
      { settlement_id: 's1', contract_hash: hash, ...BOB.sign(approvalStatement(hash), books.now()) },
      'SETTLEMENT_CLOSED',
    );
    leftOut(books, 'treasury_settlement', dispute(ALICE, 'again'), 'SETTLEMENT_CLOSED');
    expect(books.balance('vendor')).toBe('0.00');
  });

  it('deadlines: nothing signs or completes after one, and an expiry before it is refused', () => {
    const books = proposed([ALICE, BOB]);
    const settlement = books.settlement('s1');
    const expiry = {
      settlement_id: 's1',
      contract_hash: settlement.contract_hash,
      status: 'expired',
      expires_at: settlement.contract.expires_at,
    };
    expect(leftOut(books, 'treasury_settlement', expiry, 'ILLEGAL_TRANSITION')).toMatch(
      /is executing, not past its deadline/,
    );
    expect(refusedWith(books, (s, at) => planExpiry(s, s.settlements.get('s1')!, at))).toBe(
      'ILLEGAL_TRANSITION',
    );
    books.advance(7 * DAY);
    expect(refusedWith(books, (s, at) => planCompletion(s, s.settlements.get('s1')!, 'x', at))).toBe(
      'SETTLEMENT_EXPIRED',
    );
    leftOut(books, 'treasury_settlement', { ...completedBody(books, 's1') }, 'SETTLEMENT_EXPIRED');
    const expired = books.record((s, at) => planExpiry(s, s.settlements.get('s1')!, at));
    expect(books.settlement('s1').closed).toEqual({ status: 'expired', seq: expired.seq, at: expired.ts });
    leftOut(books, 'treasury_settlement', expiry, 'ILLEGAL_TRANSITION');
    expect(books.balance('ops-eur')).toBe('100.50');
  });
});

describe('settlements', () => {
  it('apply every entry at once when every required signer has signed', () => {
    const books = proposed();
    const settlement = books.settlement('s1');
    expect(settlement.contract_hash).toBe(contractHash(settlement.contract));
    expect(
      refusedWith(books, (s, at) =>
        planSignature(s, settlement, CAROL.sign(approvalStatement(settlement.contract_hash), at), at),
      ),
    ).toBe('UNAUTHORIZED_SIGNER');
    expect(refusedWith(books, (s, at) => planCompletion(s, settlement, 'x', at))).toBe(
      'SETTLEMENT_NOT_READY',
    );
    sign(books, 's1', BOB);
    sign(books, 's1', ALICE);
    expect(
      refusedWith(books, (s, at) =>
        planSignature(s, settlement, ALICE.sign(approvalStatement(settlement.contract_hash), at), at),
      ),
    ).toBe('DUPLICATE_SIGNATURE');
    const done = complete(books, 's1');
    expect(done.tags).toEqual(['treasury', 'settlement', 'completed']);
    expect(done.body).toMatchObject({
      status: 'completed',
      entries_count: 2,
      net_flow: { 'ops-eur': '-60.00', vendor: '60.00' },
      entries: [
        {
          entry_id: 's1-1',
          entry_type: 'debit',
          account: 'ops-eur',
          amount: '60.00',
          balance_after: '40.50',
        },
        {
          entry_id: 's1-2',
          entry_type: 'credit',
          account: 'vendor',
          amount: '60.00',
          balance_after: '60.00',
        },
      ],
    });
    expect((done.body.signatures as SignatureRecord[]).map((s) => s.signer)).toEqual([BOB.did, ALICE.did]);
    expect(books.balance('ops-eur')).toBe('40.50');
    expect(books.balance('vendor')).toBe('60.00');
    expect(books.state.accounts.get('ops-eur')).toMatchObject({ entries: 2, last_seq: done.seq });
    expect(books.state.entries.get('s1-1')).toMatchObject({ seq: done.seq, settlement_id: 's1' });
    expect(books.settlement('s1').closed).toEqual({ status: 'completed', seq: done.seq, at: done.ts });
    expect(books.state.anomalies).toEqual([]);
    expect(foldAll(treasuryFold, books.receipts)).toEqual(books.state);
    // The same completion again moves nothing.
    leftOut(books, 'treasury_settlement', done.body, 'SETTLEMENT_CLOSED');
    expect(books.balance('ops-eur')).toBe('40.50');
  });

  it('planCompletion refuses with the rule the settlement breaks before looking at what its entries would do', () => {
    // Once s1 moved 60.00 out of ops-eur, its entries would overdraw ops-eur if applied again;
    // the refusal still says why it cannot be applied at all: it is closed.
    const books = proposed([ALICE, BOB]);
    complete(books, 's1');
    expect(refusedWith(books, (s, at) => planCompletion(s, s.settlements.get('s1')!, 'x', at))).toBe(
      'SETTLEMENT_CLOSED',
    );
    // Unsigned, with too little money behind it: the signatures are missing first of all.
    const unsigned = proposed();
    unsigned.entry('debit', 'ops-eur', '100.50', 'e2');
    expect(refusedWith(unsigned, (s, at) => planCompletion(s, s.settlements.get('s1')!, 'x', at))).toBe(
      'SETTLEMENT_NOT_READY',
    );
  });

  it('apply legs on the same account in order, all or none', () => {
    const books = funded();
    // ops-eur pays out 150 and receives 100 back: fine net, but the first leg alone overdraws.
    const contract = contractOf(books, 's2', [
      ['debit', 'ops-eur', '150.00'],
      ['credit', 'ops-eur', '100.00'],
      ['credit', 'vendor', '50.00'],
    ]);
    books.record((s, at) => planProposal(s, contract, at));
    sign(books, 's2', ALICE);
    sign(books, 's2', BOB);
    expect(refusedWith(books, (s, at) => planCompletion(s, s.settlements.get('s2')!, 'x', at))).toBe(
      'INSUFFICIENT_FUNDS',
    );
    const reordered = contractOf(books, 's3', [
      ['credit', 'ops-eur', '100.00'],
      ['debit', 'ops-eur', '150.00'],
      ['credit', 'vendor', '50.00'],
    ]);
    books.record((s, at) => planProposal(s, reordered, at));
    sign(books, 's3', ALICE);
    sign(books, 's3', BOB);
    const done = complete(books, 's3');
    expect(done.body.net_flow).toEqual({ 'ops-eur': '-50.00', vendor: '50.00' });
    expect((done.body.entries as Array<{ balance_after: string }>).map((e) => e.balance_after)).toEqual([
      '200.50',
      '50.50',
      '50.00',
    ]);
    expect(books.balance('ops-eur')).toBe('50.50');
    expect(books.state.accounts.get('ops-eur')!.entries).toBe(3);
  });

  it('an entry id a proposed settlement holds cannot be taken by another entry', () => {
    // An entry id names one entry: once s1 is proposed with s1-1 and s1-2, a credit under s1-1 is
    // refused by the engine and left out of the books by the fold, and s1 still completes.
    const books = proposed([ALICE, BOB]);
    const leg = { entry_id: 's1-1', account: 'ops-eur', amount: 100n, currency: 'EUR' as const, memo: 'm' };
    expect(refusedWith(books, (s, at) => planEntry(s, 'credit', leg, at))).toBe('ENTRY_CONFLICT');
    leftOut(
      books,
      'treasury_credit',
      {
        entry_id: 's1-1',
        account: 'ops-eur',
        amount: '1.00',
        currency: 'EUR',
        memo: 'm',
        balance_after: '101.50',
      },
      'ENTRY_CONFLICT',
    );
    complete(books, 's1');
    expect(books.state.entries.get('s1-1')).toMatchObject({ settlement_id: 's1' });
    expect(books.state.entries.get('s1-1')!.pending).toBeUndefined();
  });

  it('a standalone entry is never taken for a settled leg with the same id and content', () => {
    // s1-2 credited vendor 60.00 as a leg of s1; a credit command naming s1-2 is another entry,
    // not a retry of one, so it is refused rather than answered with the settlement's receipt.
    const books = proposed([ALICE, BOB]);
    complete(books, 's1');
    const leg = {
      entry_id: 's1-2',
      account: 'vendor',
      amount: 6000n,
      currency: 'EUR' as const,
      memo: 'invoice 42',
    };
    expect(refusedWith(books, (s, at) => planEntry(s, 'credit', leg, at))).toBe('ENTRY_CONFLICT');
  });

  it('two settlements cannot name the same entry id; a disputed one gives its ids back', () => {
    const books = funded();
    const contractFor = (id: string) => {
      const contract = contractOf(books, id, [
        ['debit', 'ops-eur', '10.00'],
        ['credit', 'vendor', '10.00'],
      ]);
      contract.entries[0]!.entry_id = 'pay-1';
      return contract;
    };
    books.record((s, at) => planProposal(s, contractFor('s1'), at));
    expect(refusedWith(books, (s, at) => planProposal(s, contractFor('s2'), at))).toBe('ENTRY_CONFLICT');
    const s2 = contractFor('s2');
    leftOut(
      books,
      'treasury_settlement',
      { settlement_id: 's2', contract_hash: contractHash(s2), status: 'pending_signatures', contract: s2 },
      'ENTRY_CONFLICT',
    );
    expect(books.state.entries.get('pay-1')!.settlement_id).toBe('s1');
    books.record((s, at) => {
      const settlement = s.settlements.get('s1')!;
      const statement = disputeStatement(settlement.contract_hash, 'wrong vendor');
      return planDispute(s, settlement, 'wrong vendor', ALICE.sign(statement, at), at);
    });
    expect(books.state.entries.has('pay-1')).toBe(false);
    books.record((s, at) => planProposal(s, contractFor('s2'), at));
    expect(books.state.entries.get('pay-1')).toMatchObject({ settlement_id: 's2', pending: true });
  });
});

describe('settlementStatus', () => {
  it('is pending until every required signature is in, executing then, expired at the deadline', () => {
    const books = proposed();
    const settlement = books.settlement('s1');
    const deadline = Date.parse(settlement.contract.expires_at);
    const at = (ms: number) => new Date(ms).toISOString();
    expect(settlementStatus(settlement, books.now())).toBe('pending_signatures');
    sign(books, 's1', ALICE);
    expect(settlementStatus(settlement, books.now())).toBe('pending_signatures');
    expect(settlementStatus(settlement, at(deadline - 1))).toBe('pending_signatures');
    expect(settlementStatus(settlement, at(deadline))).toBe('expired');
    sign(books, 's1', BOB);
    expect(settlementStatus(settlement, books.now())).toBe('executing');
    expect(settlementStatus(settlement, at(deadline - 1))).toBe('executing');
    expect(settlementStatus(settlement, at(deadline))).toBe('expired');
    expect(settlementStatus(settlement, at(deadline + 365 * DAY))).toBe('expired');
    // A closed settlement keeps the status its receipt gave it, before or after the deadline.
    complete(books, 's1');
    expect(settlementStatus(settlement, books.now())).toBe('completed');
    expect(settlementStatus(settlement, at(deadline + DAY))).toBe('completed');
  });

  it('a disputed settlement stays disputed past its deadline', () => {
    const books = proposed();
    const hash = books.settlement('s1').contract_hash;
    books.record((s, at) =>
      planDispute(s, s.settlements.get('s1')!, 'no', ALICE.sign(disputeStatement(hash, 'no'), at), at),
    );
    const late = new Date(Date.parse(books.settlement('s1').contract.expires_at) + DAY).toISOString();
    expect(settlementStatus(books.settlement('s1'), late)).toBe('disputed');
  });
});

describe('encode and decode', () => {
  it('round-trip the books through JSON text, bigints included', () => {
    const books = proposed([ALICE, BOB]);
    complete(books, 's1');
    books.open('treasury-eth', 'reserve', 'ETH');
    books.open('world-eth', 'external', 'ETH');
    // Far beyond 2^53 wei: a number would lose it.
    books.entry('credit', 'treasury-eth', '123456789.123456789123456789', 'eth-1');
    books.entry('debit', 'world-eth', '99999999.999999999999999999', 'eth-2');
    books.append('treasury_debit', {
      entry_id: 'x',
      account: 'ops-eur',
      amount: '1.00',
      currency: 'EUR',
      memo: '',
      balance_after: '0.00',
    });
    const text = JSON.stringify(encodeTreasuryState(books.state));
    const decoded = decodeTreasuryState(JSON.parse(text));
    expect(decoded).toEqual(books.state);
    expect(decoded.accounts.get('treasury-eth')!.balance).toBe(123456789123456789123456789n);
    expect(decoded.accounts.get('world-eth')!.balance).toBe(-99999999999999999999999999n);
    expect(typeof decoded.accounts.get('ops-eur')!.balance).toBe('bigint');
    expect(decoded.anomalies).toHaveLength(1);
    expect([...decoded.entries.keys()]).toEqual(['e1', 's1-1', 's1-2', 'eth-1', 'eth-2']);
    expect(JSON.stringify(encodeTreasuryState(decoded))).toBe(text);
    // A decoded state folds on exactly as the original does.
    treasuryFold.apply(decoded, books.entry('credit', 'ops-eur', '0.01', 'e9'));
    expect(decoded).toEqual(books.state);
  });

  it('the empty books', () => {
    const empty = initialTreasuryState();
    expect(decodeTreasuryState(JSON.parse(JSON.stringify(encodeTreasuryState(empty))))).toEqual(empty);
    expect(treasuryFold.initial()).toEqual(empty);
    expect(treasuryFold).toMatchObject({ id: 'books', scroll: 'treasury', version: 2 });
  });
});

describe('checkSettlementCase: what an auditor checks of a case directory', () => {
  /** The completed receipt and the case files the engine writes for it. */
  function completedCase() {
    const books = proposed([ALICE, BOB]);
    const settlement = books.settlement('s1');
    const receipt = complete(books, 's1');
    return {
      receipt,
      files: {
        contract: `${JSON.stringify(settlement.contract, null, 2)}\n`,
        signatures: signaturesManifest(settlement),
      },
    };
  }
  const failing = (results: { check: string; ok: boolean }[]) =>
    results.filter((r) => !r.ok).map((r) => r.check);

  it('passes every check on what the engine wrote', () => {
    const { receipt, files } = completedCase();
    const results = checkSettlementCase(receipt, files);
    expect(results.map((r) => r.check)).toEqual([
      'receipt',
      'contract',
      'manifest',
      'signatures',
      'signers',
      'entries',
    ]);
    expect(failing(results)).toEqual([]);
  });

  it('names the contract, manifest, signature, signer and entry that do not hold', () => {
    const { receipt, files } = completedCase();
    const body = receipt.body as unknown as SettlementBody & { status: 'completed' };
    expect(
      failing(checkSettlementCase(receipt, { ...files, contract: files.contract.replace('60.00', '6.00') })),
    ).toEqual(['contract', 'entries']);
    expect(failing(checkSettlementCase(receipt, { ...files, signatures: `${files.signatures} ` }))).toEqual([
      'manifest',
    ]);
    // A receipt from elsewhere whose signature is forged, or that lacks a required signer.
    const forged = {
      ...body.signatures[0]!,
      signature: BOB.sign('something else', body.signatures[0]!.signed_at).signature,
    };
    const withForged = {
      ...receipt,
      body: { ...body, signatures: [forged, body.signatures[1]!] },
    } as unknown as Receipt;
    expect(failing(checkSettlementCase(withForged, files))).toEqual(['manifest', 'signatures']);
    const oneSigner = {
      ...receipt,
      body: { ...body, signatures: [body.signatures[0]!] },
    } as unknown as Receipt;
    expect(failing(checkSettlementCase(oneSigner, files))).toEqual(['manifest', 'signers']);
    const otherFlow = {
      ...receipt,
      body: { ...body, net_flow: { 'ops-eur': '-6.00', vendor: '6.00' } },
    } as unknown as Receipt;
    expect(failing(checkSettlementCase(otherFlow, files))).toEqual(['entries']);
  });

  it('refuses a receipt that is not a completed settlement', () => {
    const { files } = completedCase();
    const books = proposed();
    const proposal = books.receipts.at(-1)!;
    expect(checkSettlementCase(proposal, files)).toEqual([
      {
        check: 'receipt',
        ok: false,
        detail: `seq ${proposal.seq} is a treasury_settlement, not a completed treasury_settlement`,
      },
    ]);
  });
});

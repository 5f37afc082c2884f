/**
 * The Treasury's books are a replay of its scroll, and its money is exact. For random sequences of
 * operations (accounts of every type in two currencies, credits, debits, settlements with balanced
 * and unbalanced legs, signatures made with generated Ed25519 keys, forged ones, disputes, expiries,
 * time passing), each planned through the core plan functions: every change is accepted or refused
 * exactly as a plain bigint model of the rules says, a refusal changes nothing, no account but an
 * external one is ever below zero, per currency the balances add up to the standalone credits less
 * the standalone debits, and the fold of the receipts — in one pass, or resumed from an encoded
 * cache at any point — is the model's books. Amounts round-trip through their decimal text, and
 * text with more decimals than the currency has is refused, never rounded.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isVaultMeshError, VaultMeshError } from '../../src/core/errors.js';
import { foldAll } from '../../src/core/fold.js';
import { encodePublicKeyMultibase } from '../../src/core/identity/did.js';
import { sealDraft, validateDraft, type Receipt } from '../../src/core/receipt.js';
import {
  ACCOUNT_TYPES,
  type AccountType,
  type SettlementContract,
  type SignatureRecord,
} from '../../src/core/scrolls/treasury.js';
import { approvalStatement, disputeStatement, encodeSignature } from '../../src/core/treasury/contract.js';
import { treasuryFold } from '../../src/core/treasury/fold.js';
import {
  CURRENCY_EXPONENTS,
  formatAmount,
  parseAmount,
  parseFormatted,
  readAmount,
  type Currency,
} from '../../src/core/treasury/money.js';
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
import { refusal } from '../../src/core/fold.js';
import { openViolation } from '../../src/core/treasury/rules.js';
import {
  encodeTreasuryState,
  initialTreasuryState,
  settlementStatus,
  type TreasurySettlement,
  type TreasuryState,
} from '../../src/core/treasury/state.js';

const ISSUER = 'did:vm:node:vault-01';
const CURRENCIES = ['EUR', 'BTC'] as const;
type Cur = (typeof CURRENCIES)[number];
/** One account of every type in each currency, and one that is never opened. */
const ACCOUNTS = ACCOUNT_TYPES.flatMap((type) =>
  CURRENCIES.map((currency) => ({ id: `${type}-${currency.toLowerCase()}`, type, currency })),
);
const ACCOUNT_IDS = [...ACCOUNTS.map((a) => a.id), 'ghost'];
const ENTRY_IDS = ['e0', 'e1', 'e2', 'e3', 'e4', 'e5'];
const SETTLEMENT_IDS = ['s0', 's1'];
const MEMOS = ['rent', 'fees'];
const SETTLEMENT_MEMO = 'settled';

/** Four signers with generated Ed25519 keys; a contract requires some of them. */
const SIGNERS = [0, 1, 2, 3].map((i) => {
  const secret = ed25519.utils.randomSecretKey();
  const did = `did:vm:human:signer-${i}`;
  return {
    did,
    kid: `${did}#key-1`,
    secret,
    multibase: encodePublicKeyMultibase(ed25519.getPublicKey(secret)),
  };
});

/** `who`'s signature record for `statement`, made with `who`'s key or, forged, with another's. */
function signed(who: number, statement: string, at: string, forged: boolean): SignatureRecord {
  const claimed = SIGNERS[who]!;
  const key = SIGNERS[forged ? (who + 1) % SIGNERS.length : who]!;
  return {
    signer: claimed.did,
    kid: claimed.kid,
    public_key_multibase: claimed.multibase,
    signature: encodeSignature(ed25519.sign(new TextEncoder().encode(statement), key.secret)),
    signed_at: at,
  };
}

type Op =
  | { op: 'open'; account: number }
  | { op: 'credit' | 'debit'; account: string; amount: bigint; entry: string; memo: string; foreign: boolean }
  | {
      op: 'propose';
      id: string;
      currency: Cur;
      debits: Array<{ account: LegAccount; amount: bigint }>;
      credits: LegAccount[];
      split: number;
      unbalanced: boolean;
      creditsFirst: boolean;
      signers: number[];
      expiresIn: number;
      /** Have every required signer sign it and execute it straight after. */
      followUp: boolean;
    }
  | { op: 'sign'; id: string; who: number; forged: boolean }
  | { op: 'execute'; id: string }
  | { op: 'dispute'; id: string; who: number; forged: boolean }
  | { op: 'expire'; id: string }
  | { op: 'retry' }
  | { op: 'wait'; ms: number };

/** A settlement leg's account: of a type in the settlement's currency, in the other, or unknown. */
type LegAccount = AccountType | 'foreign' | 'ghost';

const amountArb = fc.oneof(
  { weight: 4, arbitrary: fc.bigInt({ min: 1n, max: 50_000n }) },
  { weight: 1, arbitrary: fc.bigInt({ min: 1n, max: 10n ** 20n }) },
);
const accountArb = fc.constantFrom(...ACCOUNT_IDS);
const legAccountArb: fc.Arbitrary<LegAccount> = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...ACCOUNT_TYPES) },
  { weight: 1, arbitrary: fc.constantFrom('foreign' as const, 'ghost' as const) },
);
const settlementArb = fc.constantFrom(...SETTLEMENT_IDS);
const signerArb = fc.integer({ min: 0, max: SIGNERS.length - 1 });
const forgedArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(false) },
  { weight: 1, arbitrary: fc.constant(true) },
);
const openArb = fc.record({
  op: fc.constant('open' as const),
  account: fc.integer({ min: 0, max: ACCOUNTS.length - 1 }),
});
const entryArb = (op: 'credit' | 'debit') =>
  fc.record({
    op: fc.constant(op),
    account: accountArb,
    amount: amountArb,
    entry: fc.constantFrom(...ENTRY_IDS),
    memo: fc.constantFrom(...MEMOS),
    foreign: fc.oneof(
      { weight: 8, arbitrary: fc.constant(false) },
      { weight: 1, arbitrary: fc.constant(true) },
    ),
  });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: openArb },
  { weight: 5, arbitrary: entryArb('credit') },
  { weight: 4, arbitrary: entryArb('debit') },
  { weight: 1, arbitrary: fc.constant({ op: 'retry' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('propose' as const),
      id: settlementArb,
      currency: fc.constantFrom(...CURRENCIES),
      debits: fc.array(fc.record({ account: legAccountArb, amount: amountArb }), {
        minLength: 1,
        maxLength: 2,
      }),
      credits: fc.array(legAccountArb, { minLength: 1, maxLength: 2 }),
      split: fc.nat(),
      unbalanced: fc.oneof(
        { weight: 6, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
      creditsFirst: fc.boolean(),
      signers: fc.uniqueArray(signerArb, { minLength: 1, maxLength: 3 }),
      expiresIn: fc.integer({ min: 1000, max: 2 * 86_400_000 }),
      followUp: fc.boolean(),
    }),
  },
  {
    weight: 7,
    arbitrary: fc.record({
      op: fc.constant('sign' as const),
      id: settlementArb,
      who: signerArb,
      forged: forgedArb,
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('execute' as const), id: settlementArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('dispute' as const),
      id: settlementArb,
      who: signerArb,
      forged: forgedArb,
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('expire' as const), id: settlementArb }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 86_400_000 }) }),
  },
);
/** Most accounts opened and funded first, so that most later operations have money to move. */
const opsArb = fc
  .tuple(
    fc.shuffledSubarray(
      ACCOUNTS.map((_, i) => i),
      { minLength: 6 },
    ),
    fc.array(fc.bigInt({ min: 0n, max: 10n ** 7n }), {
      minLength: ACCOUNTS.length,
      maxLength: ACCOUNTS.length,
    }),
    fc.array(opArb, { minLength: 5, maxLength: 40 }),
  )
  .map(([opens, funds, rest]): Op[] => [
    ...opens.map((account) => ({ op: 'open' as const, account })),
    ...opens
      .filter((account) => funds[account]! > 0n)
      .map((account) => ({
        op: 'credit' as const,
        account: ACCOUNTS[account]!.id,
        amount: funds[account]!,
        entry: `fund-${account}`,
        memo: 'funding',
        foreign: false,
      })),
    ...rest.flatMap((o): Op[] =>
      o.op === 'propose' && o.followUp
        ? [
            o,
            ...o.signers.map((who) => ({ op: 'sign' as const, id: o.id, who, forged: false })),
            { op: 'execute', id: o.id },
          ]
        : [o],
    ),
  ]);

function legAccount(account: LegAccount, currency: Cur): string {
  if (account === 'ghost') return 'ghost';
  if (account === 'foreign') return `operational-${currency === 'EUR' ? 'btc' : 'eur'}`;
  return `${account}-${currency.toLowerCase()}`;
}

/** A settlement's legs as the contract lists them: debits then credits, or credits first. */
function legsOf(
  o: Extract<Op, { op: 'propose' }>,
): Array<{ kind: 'credit' | 'debit'; account: string; amount: bigint }> {
  const total = o.debits.reduce((sum, d) => sum + d.amount, 0n);
  const first = o.credits.length === 1 || total < 2n ? total : 1n + (BigInt(o.split) % (total - 1n));
  const creditAmounts = o.credits.length === 1 || total < 2n ? [total] : [first, total - first];
  const credits = creditAmounts.map((amount, i) => ({
    kind: 'credit' as const,
    account: legAccount(o.credits[i]!, o.currency),
    amount: amount + (o.unbalanced && i === creditAmounts.length - 1 ? 1n : 0n),
  }));
  const debits = o.debits.map((d) => ({
    kind: 'debit' as const,
    account: legAccount(d.account, o.currency),
    amount: d.amount,
  }));
  return o.creditsFirst ? [...credits, ...debits] : [...debits, ...credits];
}

interface ModelAccount {
  type: AccountType;
  currency: Cur;
  balance: bigint;
}

interface ModelSettlement {
  currency: Cur;
  legs: Array<{ kind: 'credit' | 'debit'; account: string; amount: bigint }>;
  required: string[];
  signed: string[];
  expires: number;
  closed?: 'completed' | 'disputed' | 'expired';
}

/** The rules, written out plainly over bigints and maps: what each operation should come to. */
class Model {
  accounts = new Map<string, ModelAccount>();
  entries = new Map<string, string>();
  settlements = new Map<string, ModelSettlement>();
  /** Per currency: standalone credits less standalone debits. */
  outside = new Map<Cur, bigint>(CURRENCIES.map((c) => [c, 0n]));

  private key(kind: string, account: string, amount: bigint, currency: Cur, memo: string): string {
    return JSON.stringify([kind, account, amount.toString(), currency, memo]);
  }

  private expired(s: ModelSettlement, now: number): boolean {
    return s.closed === undefined && now >= s.expires;
  }

  /** The code the operation is refused with, 'already' for a repeated entry, or what it recorded. */
  apply(o: Exclude<Op, { op: 'wait' | 'retry' }>, now: number): string {
    switch (o.op) {
      case 'open': {
        const { id, type, currency } = ACCOUNTS[o.account]!;
        if (this.accounts.has(id)) return 'ACCOUNT_EXISTS';
        this.accounts.set(id, { type, currency, balance: 0n });
        return 'ok';
      }
      case 'credit':
      case 'debit': {
        const account = this.accounts.get(o.account);
        if (account === undefined) return 'UNKNOWN_ACCOUNT';
        const currency = o.foreign ? CURRENCIES.find((c) => c !== account.currency)! : account.currency;
        if (this.entries.get(o.entry) === this.key(o.op, o.account, o.amount, currency, o.memo))
          return 'already';
        if (currency !== account.currency) return 'CURRENCY_MISMATCH';
        const after = account.balance + (o.op === 'credit' ? o.amount : -o.amount);
        if (after < 0n && account.type !== 'external') return 'INSUFFICIENT_FUNDS';
        if (this.entries.has(o.entry)) return 'ENTRY_CONFLICT';
        account.balance = after;
        this.entries.set(o.entry, this.key(o.op, o.account, o.amount, currency, o.memo));
        this.outside.set(currency, this.outside.get(currency)! + (o.op === 'credit' ? o.amount : -o.amount));
        return 'ok';
      }
      case 'propose': {
        if (this.settlements.has(o.id)) return 'SETTLEMENT_EXISTS';
        const legs = legsOf(o);
        let credits = 0n;
        let debits = 0n;
        for (const [i, leg] of legs.entries()) {
          const account = this.accounts.get(leg.account);
          if (account === undefined) return 'UNKNOWN_ACCOUNT';
          if (account.currency !== o.currency) return 'CURRENCY_MISMATCH';
          if (this.entries.has(`${o.id}-${i + 1}`)) return 'ENTRY_CONFLICT';
          if (leg.kind === 'credit') credits += leg.amount;
          else debits += leg.amount;
        }
        if (credits !== debits) return 'UNBALANCED_SETTLEMENT';
        // A proposed settlement holds its entries' ids until it completes, is disputed or expires.
        legs.forEach((_, i) => this.entries.set(`${o.id}-${i + 1}`, `settlement ${o.id}`));
        this.settlements.set(o.id, {
          currency: o.currency,
          legs,
          required: o.signers.map((i) => SIGNERS[i]!.did),
          signed: [],
          expires: now + o.expiresIn,
        });
        return 'ok';
      }
      case 'sign': {
        const s = this.settlements.get(o.id);
        if (s === undefined) return 'UNKNOWN_SETTLEMENT';
        if (s.closed !== undefined) return 'SETTLEMENT_CLOSED';
        if (this.expired(s, now)) return 'SETTLEMENT_EXPIRED';
        const did = SIGNERS[o.who]!.did;
        if (!s.required.includes(did)) return 'UNAUTHORIZED_SIGNER';
        if (s.signed.includes(did)) return 'DUPLICATE_SIGNATURE';
        if (o.forged) return 'SIGNATURE_INVALID';
        s.signed.push(did);
        return 'ok';
      }
      case 'execute': {
        const s = this.settlements.get(o.id);
        if (s === undefined) return 'UNKNOWN_SETTLEMENT';
        if (s.closed !== undefined) return 'SETTLEMENT_CLOSED';
        if (this.expired(s, now)) {
          this.release(o.id);
          return 'expired';
        }
        if (s.required.some((d) => !s.signed.includes(d))) return 'SETTLEMENT_NOT_READY';
        const balances = new Map<string, bigint>();
        for (const leg of s.legs) {
          const account = this.accounts.get(leg.account)!;
          const after =
            (balances.get(leg.account) ?? account.balance) +
            (leg.kind === 'credit' ? leg.amount : -leg.amount);
          if (after < 0n && account.type !== 'external') return 'INSUFFICIENT_FUNDS';
          balances.set(leg.account, after);
        }
        for (const [id, balance] of balances) this.accounts.get(id)!.balance = balance;
        s.closed = 'completed';
        return 'completed';
      }
      case 'dispute': {
        const s = this.settlements.get(o.id);
        if (s === undefined) return 'UNKNOWN_SETTLEMENT';
        if (s.closed !== undefined) return 'SETTLEMENT_CLOSED';
        if (this.expired(s, now)) return 'SETTLEMENT_EXPIRED';
        // The parties are the signers.
        if (!s.required.includes(SIGNERS[o.who]!.did)) return 'UNAUTHORIZED_SIGNER';
        if (o.forged) return 'SIGNATURE_INVALID';
        this.release(o.id, 'disputed');
        return 'ok';
      }
      case 'expire': {
        const s = this.settlements.get(o.id);
        if (s === undefined) return 'UNKNOWN_SETTLEMENT';
        if (!this.expired(s, now)) return 'ILLEGAL_TRANSITION';
        this.release(o.id);
        return 'expired';
      }
    }
  }

  /** Closes a settlement that will never apply, giving its entries' ids back. */
  private release(id: string, closed: 'disputed' | 'expired' = 'expired'): void {
    const s = this.settlements.get(id)!;
    s.legs.forEach((_, i) => this.entries.delete(`${id}-${i + 1}`));
    s.closed = closed;
  }

  status(id: string, now: number): string {
    const s = this.settlements.get(id)!;
    if (s.closed !== undefined) return s.closed;
    if (now >= s.expires) return 'expired';
    return s.required.every((d) => s.signed.includes(d)) ? 'executing' : 'pending_signatures';
  }
}

/** The scroll in memory: a plan's draft is validated as the ledger would, sealed and folded in. */
class Scroll {
  readonly receipts: Receipt[] = [];
  readonly state: TreasuryState = initialTreasuryState();
  clock = Date.UTC(2026, 10, 23, 9, 0, 0);

  now(): string {
    return new Date(this.clock).toISOString();
  }

  record(draft: TreasuryDraft): Receipt {
    const validated = validateDraft({ scroll: 'treasury', ...draft });
    const { receipt } = sealDraft(validated, this.receipts.length, this.now(), ISSUER);
    this.receipts.push(receipt);
    treasuryFold.apply(this.state, receipt);
    this.clock += 1000;
    return receipt;
  }
}

/** The settlement an operation names, refused as the engine refuses one the books do not have. */
function settlementIn(state: TreasuryState, id: string): TreasurySettlement {
  const settlement = state.settlements.get(id);
  if (settlement === undefined)
    throw new VaultMeshError('UNKNOWN_SETTLEMENT', `there is no settlement ${id}`);
  return settlement;
}

/**
 * The draft the operation makes on the books, 'already' when a repeated entry records nothing,
 * or the refusal thrown. Execution is what the engine does: record the expiry of a settlement
 * past its deadline, refuse a closed one, and otherwise plan its completion.
 */
function plan(
  o: Exclude<Op, { op: 'wait' | 'retry' }>,
  state: TreasuryState,
  at: string,
): TreasuryDraft | 'already' {
  const settlement = 'id' in o && o.op !== 'propose' ? settlementIn(state, o.id) : undefined;
  switch (o.op) {
    case 'open': {
      const { id, type, currency } = ACCOUNTS[o.account]!;
      return planAccountOpen(
        state,
        { account_id: id, display_name: id, account_type: type, currency, tags: [] },
        at,
      );
    }
    case 'credit':
    case 'debit': {
      const own = state.accounts.get(o.account)?.currency ?? 'EUR';
      const currency: Currency = o.foreign ? CURRENCIES.find((c) => c !== own)! : own;
      const planned = planEntry(
        state,
        o.op,
        { entry_id: o.entry, account: o.account, amount: o.amount, currency, memo: o.memo },
        at,
      );
      return 'recorded' in planned ? 'already' : planned.draft;
    }
    case 'propose': {
      const contract: SettlementContract = {
        settlement_id: o.id,
        title: `settlement ${o.id}`,
        settlement_type: 'inter_node_resource',
        initiated_by: ISSUER,
        initiated_at: at,
        expires_at: new Date(Date.parse(at) + o.expiresIn).toISOString(),
        currency: o.currency,
        parties: o.signers.map((i) => SIGNERS[i]!.did),
        entries: legsOf(o).map((leg, i) => ({
          entry_id: `${o.id}-${i + 1}`,
          entry_type: leg.kind,
          account: leg.account,
          amount: formatAmount(leg.amount, o.currency),
          currency: o.currency,
          memo: SETTLEMENT_MEMO,
        })),
        requires_signatures: o.signers.map((i) => SIGNERS[i]!.did),
      };
      return planProposal(state, contract, at);
    }
    case 'sign':
      return planSignature(
        state,
        settlement!,
        signed(o.who, approvalStatement(settlement!.contract_hash), at, o.forged),
        at,
      );
    case 'execute': {
      const known = settlement!;
      if (known.closed === undefined && settlementStatus(known, at) === 'expired')
        return planExpiry(state, known, at);
      const closed = openViolation(known, at);
      if (closed !== undefined) throw refusal(closed);
      return planCompletion(state, known, `cases/treasury/${o.id}/SIGNATURES.json`, at).draft;
    }
    case 'dispute': {
      const reason = 'the amounts are wrong';
      return planDispute(
        state,
        settlement!,
        reason,
        signed(o.who, disputeStatement(settlement!.contract_hash, reason), at, o.forged),
        at,
      );
    }
    case 'expire':
      return planExpiry(state, settlement!, at);
  }
}

const encoded = (state: TreasuryState) => JSON.stringify(encodeTreasuryState(state));

/** What a recorded receipt was, in the model's words. */
function outcomeOf(receipt: Receipt): string {
  if (receipt.type !== 'treasury_settlement') return 'ok';
  const status = receipt.body.status as string;
  return status === 'pending_signatures' || status === 'disputed' ? 'ok' : status;
}

describe('the books are a replay of the scroll', () => {
  it('for random operation sequences, against a bigint model of the rules', () => {
    fc.assert(
      fc.property(opsArb, fc.nat(), (ops, cut) => {
        const scroll = new Scroll();
        const model = new Model();
        let lastEntry: Extract<Op, { op: 'credit' | 'debit' }> | undefined;
        for (const next of ops) {
          if (next.op === 'wait') {
            scroll.clock += next.ms;
            continue;
          }
          // A retry is the last credit or debit again, as a client retries a command.
          const o = next.op === 'retry' ? lastEntry : next;
          if (o === undefined) continue;
          if (o.op === 'credit' || o.op === 'debit') lastEntry = o;
          const at = scroll.now();
          const expected = model.apply(o, Date.parse(at));
          const before = encoded(scroll.state);
          let outcome: string;
          try {
            const draft = plan(o, scroll.state, at);
            outcome = draft === 'already' ? 'already' : outcomeOf(scroll.record(draft));
          } catch (error) {
            if (!isVaultMeshError(error)) throw error;
            outcome = error.code;
          }
          if (outcome !== 'ok' && outcome !== 'completed' && outcome !== 'expired')
            expect(encoded(scroll.state), `${o.op} was refused (${outcome}) but changed the books`).toBe(
              before,
            );
          expect(
            outcome,
            JSON.stringify(o, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)),
          ).toBe(expected);
          // (b) only an external account is ever below zero.
          for (const account of scroll.state.accounts.values())
            if (account.account_type !== 'external')
              expect(account.balance >= 0n, account.account_id).toBe(true);
        }
        const { state } = scroll;
        expect(state.anomalies).toEqual([]);
        expect(state.size).toBe(scroll.receipts.length);

        // (a) the fold of the accepted receipts is the model's books.
        const folded = foldAll(treasuryFold, scroll.receipts);
        expect(encoded(folded)).toBe(encoded(state));
        expect(new Map([...folded.accounts].map(([id, a]) => [id, a.balance]))).toEqual(
          new Map([...model.accounts].map(([id, a]) => [id, a.balance])),
        );
        expect([...folded.entries.keys()].sort()).toEqual([...model.entries.keys()].sort());
        const now = scroll.now();
        for (const id of model.settlements.keys())
          expect(settlementStatus(folded.settlements.get(id)!, now), id).toBe(
            model.status(id, Date.parse(now)),
          );
        expect([...folded.settlements.keys()].sort()).toEqual([...model.settlements.keys()].sort());

        // (c) per currency, the balances add up to the standalone credits less the standalone debits.
        for (const currency of CURRENCIES) {
          let total = 0n;
          for (const a of folded.accounts.values()) if (a.currency === currency) total += a.balance;
          let outside = 0n;
          for (const r of scroll.receipts) {
            if (r.body.currency !== currency) continue;
            if (r.type !== 'treasury_credit' && r.type !== 'treasury_debit') continue;
            const amount = parseFormatted(r.body.amount as string, currency)!;
            outside += r.type === 'treasury_credit' ? amount : -amount;
          }
          expect(total, currency).toBe(outside);
          expect(total, currency).toBe(model.outside.get(currency));
        }

        // (d) folding a prefix, caching it as JSON text and folding the rest gives the same books.
        const k = cut % (scroll.receipts.length + 1);
        const cached = JSON.stringify(
          treasuryFold.encode(foldAll(treasuryFold, scroll.receipts.slice(0, k))),
        );
        const resumed = treasuryFold.decode(JSON.parse(cached));
        for (const r of scroll.receipts.slice(k)) treasuryFold.apply(resumed, r);
        expect(encoded(resumed)).toBe(encoded(state));
        expect(resumed).toEqual(state);
      }),
      { numRuns: 150 },
    );
  });
});

describe('money is exact', () => {
  const currencyArb = fc.constantFrom(...(Object.keys(CURRENCY_EXPONENTS) as Currency[]));
  /** Any amount the books take: 1 minor unit up to 24 digits before the point. */
  const minorArb = (currency: Currency) =>
    fc.bigInt({ min: 1n, max: 10n ** BigInt(24 + CURRENCY_EXPONENTS[currency]) - 1n });
  const digitsArb = (min: number, max: number) =>
    fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
  const wholeArb = fc.oneof(
    fc.constant('0'),
    fc.tuple(fc.constantFrom(...'123456789'), digitsArb(0, 23)).map(([d, rest]) => d + rest),
  );

  it('parseAmount(formatAmount(x)) is x, and parseFormatted reads signed balances back', () => {
    fc.assert(
      fc.property(
        currencyArb.chain((currency) => fc.tuple(fc.constant(currency), minorArb(currency))),
        ([currency, minor]) => {
          const text = formatAmount(minor, currency);
          expect(parseAmount(text, currency)).toBe(minor);
          expect(parseFormatted(text, currency)).toBe(minor);
          expect(parseFormatted(formatAmount(-minor, currency), currency)).toBe(-minor);
          const decimals = text.includes('.') ? text.split('.')[1]!.length : 0;
          expect(decimals).toBe(CURRENCY_EXPONENTS[currency]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads a decimal string with at most the currency’s decimals as whole and fraction digits', () => {
    fc.assert(
      fc.property(
        currencyArb.chain((currency) =>
          fc.tuple(fc.constant(currency), wholeArb, digitsArb(0, CURRENCY_EXPONENTS[currency])),
        ),
        ([currency, whole, fraction]) => {
          const text = fraction === '' ? whole : `${whole}.${fraction}`;
          const minor = BigInt(whole + fraction.padEnd(CURRENCY_EXPONENTS[currency], '0'));
          expect(readAmount(text, currency)).toBe(minor);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses a decimal string with more decimals than the currency has, never rounding it', () => {
    fc.assert(
      fc.property(
        currencyArb.chain((currency) =>
          fc.tuple(
            fc.constant(currency),
            wholeArb,
            digitsArb(CURRENCY_EXPONENTS[currency] + 1, CURRENCY_EXPONENTS[currency] + 6),
          ),
        ),
        ([currency, whole, fraction]) => {
          const text = `${whole}.${fraction}`;
          expect(typeof readAmount(text, currency), text).toBe('string');
          expect(parseFormatted(text, currency), text).toBeUndefined();
          let code = 'accepted';
          try {
            parseAmount(text, currency);
          } catch (error) {
            if (!isVaultMeshError(error)) throw error;
            code = error.code;
            expect(error.message).toMatch(/^amount: /);
          }
          expect(code, text).toBe('INVALID_ARGUMENT');
        },
      ),
      { numRuns: 500 },
    );
  });
});

/**
 * The Treasury scroll folded into its books (state.ts). A receipt that fails its schema or the
 * rules (rules.ts) is an anomaly and moves no money, so the balances are always balances the
 * engine could have produced.
 */
import { applyRuled, type ScrollFold } from '../fold.js';
import type { Receipt } from '../receipt.js';
import { treasury } from '../scrolls/treasury.js';
import { parseFormatted } from './money.js';
import { entryFingerprint, isViolation, settlementEffect, violation, type TreasuryChange } from './rules.js';
import {
  decodeTreasuryState,
  encodeTreasuryState,
  initialTreasuryState,
  type TreasuryState,
} from './state.js';

function applyChange(
  state: TreasuryState,
  change: TreasuryChange,
  { seq, ts }: { seq: number; ts: string },
): void {
  switch (change.type) {
    case 'treasury_account_open': {
      const { body } = change;
      state.accounts.set(body.account_id, {
        account_id: body.account_id,
        display_name: body.display_name,
        account_type: body.account_type,
        currency: body.currency,
        tags: body.tags,
        opened_seq: seq,
        opened_at: ts,
        balance: 0n,
        entries: 0,
        last_seq: seq,
      });
      return;
    }
    case 'treasury_credit':
    case 'treasury_debit': {
      const { body } = change;
      const kind = change.type === 'treasury_credit' ? 'credit' : 'debit';
      const account = state.accounts.get(body.account)!;
      const amount = parseFormatted(body.amount, body.currency)!;
      account.balance += kind === 'credit' ? amount : -amount;
      account.entries += 1;
      account.last_seq = seq;
      state.entries.set(body.entry_id, { seq, fingerprint: entryFingerprint({ kind, ...body }) });
      return;
    }
    case 'treasury_settlement': {
      const { body } = change;
      if (body.status === 'pending_signatures') {
        state.settlements.set(body.settlement_id, {
          settlement_id: body.settlement_id,
          contract: body.contract,
          contract_hash: body.contract_hash,
          proposed_seq: seq,
          signatures: [],
        });
        for (const entry of body.contract.entries) {
          state.entries.set(entry.entry_id, {
            seq,
            fingerprint: entryFingerprint({ kind: entry.entry_type, ...entry }),
            settlement_id: body.settlement_id,
            pending: true,
          });
        }
        return;
      }
      const settlement = state.settlements.get(body.settlement_id)!;
      if (body.status === 'completed') {
        const effect = settlementEffect(state, settlement.contract);
        if (isViolation(effect)) return;
        for (const [id, balance] of effect.balances) {
          const account = state.accounts.get(id)!;
          account.balance = balance;
          account.last_seq = seq;
        }
        for (const entry of settlement.contract.entries) {
          state.accounts.get(entry.account)!.entries += 1;
          const key = state.entries.get(entry.entry_id)!;
          key.seq = seq;
          delete key.pending;
        }
        settlement.closed = { status: 'completed', seq, at: ts };
        return;
      }
      // A settlement that will never apply gives its entry ids back.
      for (const entry of settlement.contract.entries) state.entries.delete(entry.entry_id);
      if (body.status === 'disputed') {
        settlement.closed = { status: 'disputed', seq, at: ts, reason: body.reason, by: body.dispute.signer };
      } else {
        settlement.closed = { status: 'expired', seq, at: ts };
      }
      return;
    }
    case 'treasury_settlement_signature': {
      const { body } = change;
      state.settlements.get(body.settlement_id)!.signatures.push({
        signer: body.signer,
        kid: body.kid,
        public_key_multibase: body.public_key_multibase,
        signature: body.signature,
        signed_at: body.signed_at,
        seq,
      });
      return;
    }
  }
}

export function applyTreasuryReceipt(state: TreasuryState, receipt: Receipt): void {
  applyRuled({ scroll: treasury, violation, apply: applyChange }, state, receipt);
}

export const treasuryFold: ScrollFold<TreasuryState> = {
  id: 'books',
  scroll: 'treasury',
  version: 2,
  initial: initialTreasuryState,
  apply: applyTreasuryReceipt,
  encode: encodeTreasuryState,
  decode: decodeTreasuryState,
};

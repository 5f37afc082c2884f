/**
 * Derived state (DESIGN §6): what an engine knows — balances, DID documents, the topology — is a
 * fold of its scroll's receipts in order, never a second truth. A fold is pure; the ledger caches
 * its result and takes in only the receipts appended since.
 */
import type { JsonValue } from './canonical.js';
import { VaultMeshError, type ErrorCode } from './errors.js';
import type { Receipt } from './receipt.js';
import type { ScrollDefinition } from './scrolls/define.js';

export interface ScrollFold<S> {
  /** Names the cache file: `index/<scroll>/fold-<id>.json`. */
  readonly id: string;
  readonly scroll: string;
  /** Raised whenever the state's shape or the rules change, so that older caches are folded anew. */
  readonly version: number;
  initial(): S;
  /** Takes in the next receipt (mutating `state`). Receipts that break the rules are noted, not thrown. */
  apply(state: S, receipt: Receipt): void;
  encode(state: S): JsonValue;
  decode(value: JsonValue): S;
}

/** Folds receipts from scratch: what the cached state must always equal. */
export function foldAll<S>(fold: ScrollFold<S>, receipts: Iterable<Receipt>): S {
  const state = fold.initial();
  for (const receipt of receipts) fold.apply(state, receipt);
  return state;
}

/** A receipt a rule-keeping fold left out, and why. */
export interface FoldAnomaly {
  seq: number;
  type: string;
  code: ErrorCode;
  message: string;
}

export interface RuledState {
  /** Receipts folded. */
  size: number;
  anomalies: FoldAnomaly[];
}

export interface FoldRules<S, C> {
  readonly scroll: ScrollDefinition;
  /** The rule the change breaks on this state, judged at the receipt's time, if any. */
  violation(state: S, change: C, at: string): { code: ErrorCode; message: string } | undefined;
  apply(state: S, change: C, at: { seq: number; ts: string }): void;
}

/**
 * One step of an engine's fold: the receipt is read against its type's schema and the engine's
 * rules; one that fails either is an anomaly and changes nothing, so the state is always one the
 * engine could have produced.
 */
export function applyRuled<S extends RuledState, C>(
  rules: FoldRules<S, C>,
  state: S,
  receipt: Receipt,
): void {
  state.size = receipt.seq + 1;
  const note = (code: ErrorCode, message: string): void => {
    state.anomalies.push({ seq: receipt.seq, type: receipt.type, code, message });
  };
  const definition = rules.scroll.types.find((t) => t.type === receipt.type);
  if (definition === undefined)
    return note('INVALID_BODY', `${receipt.type} is not a ${rules.scroll.title} receipt type`);
  const parsed = definition.body.safeParse(receipt.body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return note('INVALID_BODY', `body.${issue.path.map(String).join('.')}: ${issue.message}`);
  }
  const change = { type: receipt.type, body: parsed.data } as C;
  const broken = rules.violation(state, change, receipt.ts);
  if (broken !== undefined) return note(broken.code, broken.message);
  rules.apply(state, change, { seq: receipt.seq, ts: receipt.ts });
}

/** A rule a change breaks: the code and message an engine refuses it with, and how to fix it. */
export interface Violation {
  code: ErrorCode;
  message: string;
  hint: string;
}

export function ruleBroken(code: ErrorCode, message: string, hint: string): Violation {
  return { code, message, hint };
}

/** The error an engine throws for a change that breaks a rule: nothing has been written. */
export function refusal(violation: Violation): VaultMeshError {
  return new VaultMeshError(violation.code, violation.message, { hint: violation.hint });
}

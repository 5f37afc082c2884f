/**
 * `vm treasury settle propose|sign|show|list|execute|dispute`: multi-party settlements. A contract
 * is proposed (a receipt carrying it and its hash), each required signer signs the hash with a key
 * bound to their DID (a receipt each), and execution applies every entry in one receipt — all of
 * them or none — with the net flow and the signatures. A settlement can instead be disputed by a
 * party or expire at its deadline.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { expiryTime } from '../../core/duration.js';
import { verifyBundle } from '../../core/bundle.js';
import { parseVerifierKey } from '../../core/note.js';
import type { Receipt } from '../../core/receipt.js';
import { checkSettlementCase, type CaseCheckResult } from '../../core/treasury/case-check.js';
import { checkCase, MANIFEST_FILE, PROOF_FILE } from '../../ledger/case-store.js';
import { did } from '../../core/scrolls/define.js';
import { ledgerId, SETTLEMENT_TYPES, type SettlementContract } from '../../core/scrolls/treasury.js';
import { textTable, type TableRows } from '../../core/table.js';
import { approvalStatement, disputeStatement } from '../../core/treasury/contract.js';
import { currencyOf, formatAmount, parseAmount } from '../../core/treasury/money.js';
import {
  planCompletion,
  planDispute,
  planExpiry,
  planProposal,
  planSignature,
} from '../../core/treasury/plan.js';
import { refusal, type Violation } from '../../core/fold.js';
import { isViolation, openViolation, settlementOf, signaturesManifest } from '../../core/treasury/rules.js';
import {
  missingSigners,
  settlementStatus,
  type SettlementStatus,
  type TreasurySettlement,
  type TreasuryState,
} from '../../core/treasury/state.js';
import { ensureNodeDid } from '../identity/append.js';
import type { EngineContext } from '../framework/engine.js';
import { defineOperation } from '../framework/engine.js';
import { manifestPath, settlementCaseDir, SIGNATURES_FILE, writeSettlementCase } from './case-files.js';
import { currencyInput, memoInput } from './inputs.js';
import { currentBooks, receiptAt, receiptSummary, recordBooks } from './ledger.js';
import { activeDid, checkSignerNow, signStatement } from './signers.js';

const settlementArgument = {
  field: 'id',
  name: 'settlement-id',
  description: 'the settlement (vm treasury settle list)',
};

function settlementIn(state: TreasuryState, id: string): TreasurySettlement {
  const settlement = settlementOf(state, id);
  if (isViolation(settlement)) throw refusal(settlement);
  return settlement;
}

function refuseIf(broken: Violation | undefined): void {
  if (broken !== undefined) throw refusal(broken);
}

export interface SettlementView {
  settlement_id: string;
  status: SettlementStatus;
  title: string;
  settlement_type: string;
  currency: string;
  contract_hash: string;
  /** The exact text each signer signs (UTF-8). */
  statement: string;
  contract: SettlementContract;
  proposed_seq: number;
  signatures: TreasurySettlement['signatures'];
  missing_signatures: string[];
  closed?: TreasurySettlement['closed'];
  case_dir?: string;
}

function view(settlement: TreasurySettlement, at: string): SettlementView {
  const { contract } = settlement;
  return {
    settlement_id: settlement.settlement_id,
    status: settlementStatus(settlement, at),
    title: contract.title,
    settlement_type: contract.settlement_type,
    currency: contract.currency,
    contract_hash: settlement.contract_hash,
    statement: approvalStatement(settlement.contract_hash),
    contract,
    proposed_seq: settlement.proposed_seq,
    signatures: settlement.signatures,
    missing_signatures: missingSigners(settlement),
    ...(settlement.closed === undefined ? {} : { closed: settlement.closed }),
  };
}

function describe(v: SettlementView): string {
  const { contract } = v;
  return [
    `settlement ${v.settlement_id}: ${v.status} — ${v.title} (${v.settlement_type}, ${v.currency})`,
    `contract:   ${v.contract_hash} (proposed at seq ${v.proposed_seq} by ${contract.initiated_by})`,
    `sign:       "${v.statement}"`,
    `expires:    ${contract.expires_at}`,
    `parties:    ${contract.parties.join(', ')}`,
    'entries:',
    ...contract.entries.map(
      (e) =>
        `  ${e.entry_type.padEnd(6)} ${e.account.padEnd(20)} ${e.amount.padStart(16)} ${e.currency}  ${e.memo}`,
    ),
    'signatures:',
    ...contract.requires_signatures.map((signer) => {
      const s = v.signatures.find((x) => x.signer === signer);
      return s === undefined
        ? `  missing  ${signer}`
        : `  signed   ${signer} with ${s.kid} at ${s.signed_at} (seq ${s.seq})`;
    }),
    ...(v.closed === undefined
      ? []
      : [
          `closed:     ${v.closed.status} at seq ${v.closed.seq}${v.closed.reason === undefined ? '' : `: ${v.closed.reason} (${v.closed.by})`}`,
        ]),
    ...(v.case_dir === undefined ? [] : [`case:       ${v.case_dir}`]),
  ].join('\n');
}

/** `--debit ops-eur=100.00`: an account and an amount. */
const legInput = z.string().transform((text, ctx) => {
  const eq = text.indexOf('=');
  const account = ledgerId.safeParse(text.slice(0, eq));
  if (eq < 0 || !account.success) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not account=amount, e.g. ops-eur=100.00` });
    return z.NEVER;
  }
  return { account: account.data, amount: text.slice(eq + 1) };
});

function newSettlementId(at: string): string {
  return `settle-${at.replace(/[-:.]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`;
}

export const settlePropose = defineOperation({
  name: 'settle propose',
  summary: 'propose a settlement: entries that apply together once every required signer signs',
  access: 'write',
  input: z.object({
    id: ledgerId.optional(),
    title: z.string().min(1).max(256),
    type: z.enum(SETTLEMENT_TYPES),
    signer: z.array(did).min(1),
    party: z.array(did).optional(),
    debit: z.array(legInput).min(1),
    credit: z.array(legInput).min(1),
    currency: currencyInput.optional(),
    memo: memoInput.default(''),
    expires: z.string().default('7d'),
    as: did.optional(),
  }),
  cli: {
    options: [
      { field: 'title', flags: '--title <text>', description: 'what the settlement is' },
      { field: 'type', flags: '--type <type>', description: SETTLEMENT_TYPES.join(', ') },
      { field: 'signer', flags: '--signer <dids...>', description: 'DIDs whose signatures it requires' },
      { field: 'party', flags: '--party <dids...>', description: 'DIDs party to it (default: the signers)' },
      { field: 'debit', flags: '--debit <account=amount...>', description: 'entries out of accounts' },
      { field: 'credit', flags: '--credit <account=amount...>', description: 'entries into accounts' },
      {
        field: 'currency',
        flags: '--currency <code>',
        description: "the settlement's currency (default: the first account's)",
      },
      { field: 'memo', flags: '--memo <text>', description: 'memo of every entry' },
      {
        field: 'expires',
        flags: '--expires <when>',
        description: 'deadline: a duration (7d, 12h) or ISO time (default 7d)',
      },
      {
        field: 'id',
        flags: '--id <settlement-id>',
        description: 'settlement id (default: settle-<time>-<random>)',
      },
      { field: 'as', flags: '--as <did>', description: 'the initiating DID (default: this node)' },
    ],
  },
  async run(context, input): Promise<{ receipt: Receipt; settlement: SettlementView }> {
    const { ledger } = context;
    const initiatedBy = input.as ?? ledger.identity.did;
    // The node may initiate, sign or be a party; its DID is put in the Identity scroll on first use.
    if ([initiatedBy, ...input.signer, ...(input.party ?? [])].includes(ledger.identity.did))
      await ensureNodeDid(ledger);
    activeDid(ledger, initiatedBy, 'as');
    for (const d of input.signer) activeDid(ledger, d, 'signer');
    const parties = input.party ?? input.signer;
    for (const d of parties) activeDid(ledger, d, 'party');
    const now = context.clock();
    const expiresAt = expiryTime(input.expires, now);
    let id = input.id;
    const { receipts, state } = await recordBooks(context, (books, at) => {
      id ??= newSettlementId(at);
      const first = books.accounts.get(input.debit[0]!.account);
      const currency = currencyOf(input.currency ?? first?.currency ?? 'EUR');
      const legs = [
        ...input.debit.map((l) => ({ ...l, entry_type: 'debit' as const })),
        ...input.credit.map((l) => ({ ...l, entry_type: 'credit' as const })),
      ];
      const contract: SettlementContract = {
        settlement_id: id,
        title: input.title,
        settlement_type: input.type,
        initiated_by: initiatedBy,
        initiated_at: at,
        expires_at: expiresAt,
        currency,
        parties,
        entries: legs.map((l, i) => ({
          entry_id: `${id}-${i + 1}`,
          entry_type: l.entry_type,
          account: l.account,
          amount: formatAmount(parseAmount(l.amount, currency, `${l.entry_type}[${l.account}]`), currency),
          currency,
          memo: input.memo,
        })),
        requires_signatures: input.signer,
      };
      return [planProposal(books, contract, at)];
    });
    return { receipt: receipts[0]!, settlement: view(state.settlements.get(id!)!, now.toISOString()) };
  },
  human: ({ receipt, settlement }) =>
    [
      describe(settlement),
      receiptSummary(receipt),
      `next: vm treasury settle sign ${settlement.settlement_id} --as <did>`,
    ].join('\n'),
});

/** Who signs, with which key, and — when the holder keeps the key — the signature they made. */
const signerFields = {
  as: did,
  kid: z.string().min(1).optional(),
  signature: z.string().min(1).optional(),
};

function signerOptions(role: 'signer' | 'party', statement: string) {
  return [
    { field: 'as', flags: '--as <did>', description: `the ${role}` },
    { field: 'kid', flags: '--kid <key-id>', description: `the ${role}'s key (default: their newest)` },
    {
      field: 'signature',
      flags: '--signature <base64url>',
      description: `the holder's Ed25519 signature of ${statement}`,
    },
  ];
}

export const settleSign = defineOperation({
  name: 'settle sign',
  summary:
    "sign a settlement's contract hash as a required signer (with a key this node holds, or --signature)",
  access: 'write',
  capability: 'admin',
  input: z.object({ id: ledgerId, ...signerFields }),
  cli: {
    arguments: [settlementArgument],
    options: signerOptions('signer', 'the statement "settle show" prints'),
  },
  async run(context, input): Promise<{ receipt: Receipt; settlement: SettlementView }> {
    const { ledger } = context;
    const proposed = settlementIn(currentBooks(context).state, input.id);
    const signature = signStatement(
      ledger,
      input,
      approvalStatement(proposed.contract_hash),
      context.clock().toISOString(),
    );
    const { receipts, state } = await recordBooks(context, (books, at) => [
      planSignature(books, settlementIn(books, input.id), signature, at),
    ]);
    return {
      receipt: receipts[0]!,
      settlement: view(state.settlements.get(input.id)!, context.clock().toISOString()),
    };
  },
  human: ({ receipt, settlement }) =>
    [
      `signed settlement ${settlement.settlement_id} as ${String(receipt.body.signer)} (${String(receipt.body.kid)})`,
      settlement.missing_signatures.length === 0
        ? `every signature is in: vm treasury settle execute ${settlement.settlement_id}`
        : `still missing: ${settlement.missing_signatures.join(', ')}`,
      receiptSummary(receipt),
    ].join('\n'),
});

export const settleShow = defineOperation({
  name: 'settle show',
  summary: 'a settlement: contract, statement to sign, signatures, status',
  access: 'read',
  input: z.object({ id: ledgerId }),
  cli: { arguments: [settlementArgument] },
  async run(context, input): Promise<SettlementView> {
    const { state, at } = currentBooks(context);
    const settlement = view(settlementIn(state, input.id), at);
    return settlement.closed?.status === 'completed'
      ? { ...settlement, case_dir: settlementCaseDir(context.ledger, input.id) }
      : settlement;
  },
  human: describe,
});

const STATUSES = ['pending_signatures', 'executing', 'completed', 'disputed', 'expired'] as const;

function settlementRows(list: readonly SettlementView[]): TableRows {
  return {
    columns: [
      'settlement_id',
      'status',
      'settlement_type',
      'currency',
      'entries',
      'signed',
      'expires_at',
      'title',
    ],
    rows: list.map((s) => [
      s.settlement_id,
      s.status,
      s.settlement_type,
      s.currency,
      String(s.contract.entries.length),
      `${s.signatures.length}/${s.contract.requires_signatures.length}`,
      s.contract.expires_at,
      s.title,
    ]),
  };
}

export const settleList = defineOperation({
  name: 'settle list',
  summary: 'settlements and where each stands',
  access: 'read',
  input: z.object({ status: z.enum(STATUSES).optional() }),
  cli: { options: [{ field: 'status', flags: '--status <status>', description: STATUSES.join(', ') }] },
  async run(context, input): Promise<{ settlements: SettlementView[] }> {
    const { state, at } = currentBooks(context);
    const settlements = [...state.settlements.values()]
      .map((s) => view(s, at))
      .filter((s) => input.status === undefined || s.status === input.status);
    return { settlements };
  },
  human: ({ settlements }) =>
    settlements.length === 0 ? 'no settlements' : textTable(settlementRows(settlements)),
  rows: ({ settlements }) => settlementRows(settlements),
});

export interface ExecuteResult {
  /** False when the settlement had expired: its expiry is recorded instead and nothing moves. */
  ok: boolean;
  receipt: Receipt;
  settlement: SettlementView;
  /** True when an earlier execution had already completed it. */
  already: boolean;
  case_dir?: string;
}

async function completedCase(context: EngineContext, settlement: TreasurySettlement): Promise<ExecuteResult> {
  const receipt = receiptAt(context, settlement.closed!.seq);
  const dir = await writeSettlementCase(context.ledger, settlement, signaturesManifest(settlement), receipt);
  return {
    ok: true,
    receipt,
    settlement: view(settlement, context.clock().toISOString()),
    already: true,
    case_dir: dir,
  };
}

export const settleExecute = defineOperation({
  name: 'settle execute',
  summary: 'apply every entry of a fully signed settlement at once (or record that it expired)',
  access: 'write',
  input: z.object({ id: ledgerId }),
  cli: { arguments: [settlementArgument] },
  async run(context, input): Promise<ExecuteResult> {
    const { ledger } = context;
    const done = settlementIn(currentBooks(context).state, input.id);
    if (done.closed?.status === 'completed') return completedCase(context, done);
    let manifest = '';
    const { receipts, state } = await recordBooks(context, (books, at) => {
      const settlement = settlementIn(books, input.id);
      // Another process completed it meanwhile: that execution is this one's answer too.
      if (settlement.closed?.status === 'completed') return [];
      if (settlement.closed === undefined && settlementStatus(settlement, at) === 'expired')
        return [planExpiry(books, settlement, at)];
      refuseIf(openViolation(settlement, at));
      // Signatures were checked when recorded; a signer revoked or a key rotated since stops it.
      for (const signature of settlement.signatures) checkSignerNow(ledger, signature);
      const planned = planCompletion(books, settlement, manifestPath(input.id), at);
      manifest = planned.manifest;
      return [planned.draft];
    });
    const settlement = state.settlements.get(input.id)!;
    const receipt = receipts[0];
    if (receipt === undefined) return completedCase(context, settlement);
    const settled = view(settlement, context.clock().toISOString());
    if (receipt.body.status === 'expired') return { ok: false, receipt, settlement: settled, already: false };
    const dir = await writeSettlementCase(ledger, settlement, manifest, receipt);
    return { ok: true, receipt, settlement: settled, already: false, case_dir: dir };
  },
  human: ({ ok, receipt, settlement, already, case_dir }) =>
    ok
      ? [
          `${already ? 'already completed' : 'completed'}: settlement ${settlement.settlement_id}, ${settlement.contract.entries.length} entries applied at once`,
          ...Object.entries(receipt.body.net_flow as Record<string, string>).map(
            ([account, flow]) => `  ${account.padEnd(20)} ${flow.padStart(16)} ${settlement.currency}`,
          ),
          `case: ${case_dir}`,
          receiptSummary(receipt),
        ].join('\n')
      : [
          `settlement ${settlement.settlement_id} expired at ${settlement.contract.expires_at}: nothing was applied; its expiry is recorded`,
          receiptSummary(receipt),
        ].join('\n'),
});

export const settleDispute = defineOperation({
  name: 'settle dispute',
  summary: 'dispute an open settlement as a party or signer (signed); it will not execute',
  access: 'write',
  capability: 'admin',
  input: z.object({ id: ledgerId, reason: z.string().min(1).max(2048), ...signerFields }),
  cli: {
    arguments: [settlementArgument],
    options: [
      { field: 'reason', flags: '--reason <text>', description: 'why' },
      ...signerOptions('party', 'the dispute statement'),
    ],
  },
  async run(context, input): Promise<{ receipt: Receipt; settlement: SettlementView }> {
    const { ledger } = context;
    const open = settlementIn(currentBooks(context).state, input.id);
    refuseIf(openViolation(open, context.clock().toISOString()));
    const dispute = signStatement(
      ledger,
      input,
      disputeStatement(open.contract_hash, input.reason),
      context.clock().toISOString(),
    );
    const { receipts, state } = await recordBooks(context, (books, at) => [
      planDispute(books, settlementIn(books, input.id), input.reason, dispute, at),
    ]);
    return {
      receipt: receipts[0]!,
      settlement: view(state.settlements.get(input.id)!, context.clock().toISOString()),
    };
  },
  human: ({ receipt, settlement }) =>
    [
      `settlement ${settlement.settlement_id} disputed by ${String((receipt.body.dispute as { signer: string }).signer)}: ${String(receipt.body.reason)}`,
      receiptSummary(receipt),
    ].join('\n'),
});

export interface CaseVerification {
  ok: boolean;
  case_dir: string;
  checks: CaseCheckResult[];
}

/** A case file as text, or undefined when it cannot be read (the check then fails naming it). */
function caseText(dir: string, name: string): string | undefined {
  try {
    return readFileSync(join(dir, name), 'utf8');
  } catch {
    return undefined;
  }
}

export const settleVerify = defineOperation({
  name: 'settle verify',
  summary: "check a settlement's case directory: proof, files, contract, signatures, entries",
  access: 'read',
  local: true,
  input: z.object({ dir: z.string().min(1), vkey: z.string().min(1).optional() }),
  cli: {
    arguments: [{ field: 'dir', name: 'case-dir', description: 'e.g. cases/treasury/inv-7' }],
    options: [
      {
        field: 'vkey',
        flags: '--vkey <vkey>',
        description: "the verifier key of the node that signed PROOF.json (default: this node's)",
      },
    ],
  },
  async run(context, input): Promise<CaseVerification> {
    const dir = resolve(context.cwd, input.dir);
    const checks: CaseCheckResult[] = [];
    const verifier =
      input.vkey === undefined ? context.ledger.identity.verifier : parseVerifierKey(input.vkey);
    const [proof, contract, signatures] = [PROOF_FILE, 'contract.json', SIGNATURES_FILE].map((f) =>
      caseText(dir, f),
    );
    let receipt: Receipt | undefined;
    try {
      if (proof === undefined) throw new Error(`${PROOF_FILE} cannot be read`);
      receipt = verifyBundle(proof, [verifier]).receipt;
      checks.push({
        check: 'proof',
        ok: true,
        detail: `${PROOF_FILE}: seq ${receipt.seq} is in the signed tree`,
      });
    } catch (error) {
      checks.push({ check: 'proof', ok: false, detail: `${PROOF_FILE}: ${(error as Error).message}` });
    }
    try {
      const { problems } = checkCase(dir);
      checks.push({
        check: 'artifacts',
        ok: problems.length === 0,
        detail:
          problems.length === 0
            ? `every file ${MANIFEST_FILE} lists has its sha256`
            : problems.map((p) => `${p.path} ${p.problem}`).join(', '),
      });
    } catch (error) {
      checks.push({ check: 'artifacts', ok: false, detail: (error as Error).message });
    }
    if (receipt !== undefined) {
      if (contract === undefined || signatures === undefined) {
        checks.push({
          check: 'files',
          ok: false,
          detail: `contract.json or ${SIGNATURES_FILE} cannot be read`,
        });
      } else {
        checks.push(...checkSettlementCase(receipt, { contract, signatures }));
      }
    }
    return { ok: checks.every((c) => c.ok), case_dir: dir, checks };
  },
  human: (r) =>
    [
      `${r.ok ? 'ok' : 'FAIL'}: ${r.case_dir}`,
      ...r.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.check.padEnd(10)} ${c.detail}`),
    ].join('\n'),
});

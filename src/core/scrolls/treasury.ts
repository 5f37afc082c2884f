import { z } from 'zod';
import { CURRENCIES } from '../treasury/money.js';
import { bodyWith, decimalAmount, defineScroll, did, hashRef, identifier, timestamp } from './define.js';

export const ACCOUNT_TYPES = ['operational', 'reserve', 'escrow', 'external'] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];
export const SETTLEMENT_TYPES = [
  'inter_node_resource',
  'vendor_payment',
  'client_invoice',
  'grant_disbursement',
] as const;
export type SettlementType = (typeof SETTLEMENT_TYPES)[number];

/** Account and entry ids: they appear in paths, queries and CSV, so letters, digits and `._:-` only. */
export const ledgerId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
    'expected letters, digits and . _ : - (up to 128), e.g. ops-eur',
  );
export const treasuryCurrency = z.enum(CURRENCIES);
/** A balance or a net flow: signed, written with exactly the currency's decimals. */
export const signedAmount = z
  .string()
  .regex(/^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/, 'expected a decimal string such as "-12.50"');
const memo = z.string().max(1024);
const signature = z
  .string()
  .regex(/^[A-Za-z0-9_-]{86}$/, 'expected a base64url Ed25519 signature (86 characters)');
const publicKeyMultibase = z
  .string()
  .regex(/^z[1-9A-HJ-NP-Za-km-z]{40,60}$/, 'expected a multibase z6Mk... key');

export const accountOpenBody = bodyWith({
  account_id: ledgerId,
  display_name: z.string().min(1).max(256),
  account_type: z.enum(ACCOUNT_TYPES),
  currency: treasuryCurrency,
  tags: z.array(identifier),
});
export type AccountOpenBody = z.infer<typeof accountOpenBody>;

export const entryBody = bodyWith({
  entry_id: ledgerId,
  account: ledgerId,
  amount: decimalAmount,
  currency: treasuryCurrency,
  memo,
  /** The account's balance once this entry is in: what an auditor reads without replaying. */
  balance_after: signedAmount,
});
export type EntryBody = z.infer<typeof entryBody>;

export const settlementEntry = z.strictObject({
  entry_id: ledgerId,
  entry_type: z.enum(['credit', 'debit']),
  account: ledgerId,
  amount: decimalAmount,
  currency: treasuryCurrency,
  memo,
});
export type SettlementEntry = z.infer<typeof settlementEntry>;

/** What every signer signs (by its canonical hash): the whole settlement, fixed at its proposal. */
export const settlementContract = z.strictObject({
  settlement_id: ledgerId,
  title: z.string().min(1).max(256),
  settlement_type: z.enum(SETTLEMENT_TYPES),
  initiated_by: did,
  initiated_at: timestamp,
  expires_at: timestamp,
  currency: treasuryCurrency,
  parties: z.array(did).min(1),
  entries: z.array(settlementEntry).min(2).max(1000),
  requires_signatures: z.array(did).min(1).max(32),
});
export type SettlementContract = z.infer<typeof settlementContract>;

export const signatureRecord = z.strictObject({
  signer: did,
  kid: z.string().min(1),
  public_key_multibase: publicKeyMultibase,
  signature,
  signed_at: timestamp,
});
export type SignatureRecord = z.infer<typeof signatureRecord>;

const settlementRef = { settlement_id: ledgerId, contract_hash: hashRef };

export const settlementBody = z.discriminatedUnion('status', [
  bodyWith({ ...settlementRef, status: z.literal('pending_signatures'), contract: settlementContract }),
  bodyWith({
    ...settlementRef,
    status: z.literal('completed'),
    title: z.string(),
    settlement_type: z.enum(SETTLEMENT_TYPES),
    parties: z.array(did),
    currency: treasuryCurrency,
    timestamp_initiated: timestamp,
    timestamp_completed: timestamp,
    entries: z.array(settlementEntry.extend({ balance_after: signedAmount })),
    entries_count: z.number().int().positive(),
    /** Per account: credits less debits, in the settlement's currency. */
    net_flow: z.record(z.string(), signedAmount),
    signatures: z.array(signatureRecord),
    signatures_manifest: z.string(),
    /** sha256 of SIGNATURES.json as written in the case directory. */
    signatures_manifest_hash: hashRef,
  }),
  bodyWith({
    ...settlementRef,
    status: z.literal('disputed'),
    reason: z.string().min(1).max(2048),
    dispute: signatureRecord,
  }),
  bodyWith({ ...settlementRef, status: z.literal('expired'), expires_at: timestamp }),
]);
export type SettlementBody = z.infer<typeof settlementBody>;

export const signatureBody = bodyWith({ ...settlementRef, ...signatureRecord.shape });
export type SignatureBody = z.infer<typeof signatureBody>;

export const TREASURY_TYPES = [
  'treasury_account_open',
  'treasury_credit',
  'treasury_debit',
  'treasury_settlement',
  'treasury_settlement_signature',
] as const;

const RESERVED = 'written by the Treasury engine, which checks the books: use vm treasury';

export const treasury = defineScroll({
  name: 'treasury',
  title: 'Treasury',
  engineId: 'engine:treasury',
  description: 'Accounts, credits, debits and multi-party settlements, in exact decimal amounts.',
  file: 'receipts/treasury/treasury_events.jsonl',
  rootFile: 'ROOT.treasury.txt',
  types: [
    {
      type: 'treasury_account_open',
      description: 'An account opened, with its type and currency.',
      body: accountOpenBody,
      reserved: RESERVED,
    },
    {
      type: 'treasury_credit',
      description: 'Money into an account.',
      body: entryBody,
      reserved: RESERVED,
    },
    {
      type: 'treasury_debit',
      description: 'Money out of an account.',
      body: entryBody,
      reserved: RESERVED,
    },
    {
      type: 'treasury_settlement',
      description: 'A settlement proposed, completed (all entries at once), disputed or expired.',
      body: settlementBody,
      reserved: RESERVED,
    },
    {
      type: 'treasury_settlement_signature',
      description: "A signer's Ed25519 signature over a settlement's contract hash.",
      body: signatureBody,
      reserved: RESERVED,
    },
  ],
});

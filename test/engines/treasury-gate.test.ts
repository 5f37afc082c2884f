/**
 * The design gate's checklist (seed 001 §12) for the Treasury engine, whose state is a fold of its
 * scroll (the books) rather than staged runs: each item judged on what its operations leave on
 * disk, run in process through the same input contract every interface uses. Settlement signers
 * are DIDs made by the Identity engine: one whose key the node keeps, one whose holder signs
 * elsewhere and hands the signature in.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { base64urlnopad } from '@scure/base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAnchored, expectRootAndCheckpoint } from '../helpers/gate.js';
import { isVaultMeshError, VaultMeshError } from '../../src/core/errors.js';
import { foldAll } from '../../src/core/fold.js';
import { encodePublicKeyMultibase } from '../../src/core/identity/did.js';
import { generateNoteKey } from '../../src/core/note.js';
import { assertAppendable, parseReceiptLine, validateDraft, type Receipt } from '../../src/core/receipt.js';
import { identity as identityScroll } from '../../src/core/scrolls/identity.js';
import { getReceiptType, SCROLLS } from '../../src/core/scrolls/index.js';
import { treasury as treasuryScroll, TREASURY_TYPES } from '../../src/core/scrolls/treasury.js';
import { treasuryFold } from '../../src/core/treasury/fold.js';
import { signaturesManifest } from '../../src/core/treasury/rules.js';
import { balanceText } from '../../src/core/treasury/state.js';
import type { AnyOperation } from '../../src/engines/framework/engine.js';
import { parseOperationInput } from '../../src/engines/framework/input.js';
import { identityEngine } from '../../src/engines/identity/index.js';
import { ENGINE_SURFACES } from '../../src/engines/registry.js';
import { currentBooks } from '../../src/engines/treasury/ledger.js';
import { treasuryEngine } from '../../src/engines/treasury/index.js';
import { initDataDir } from '../../src/ledger/init.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { importLegacy } from '../../src/ledger/maintenance.js';

const ALICE = 'did:vm:human:alice';
const BOB = 'did:vm:human:bob';
const CAROL = 'did:vm:human:carol';
/** Bob keeps his own key: the node only has his public key. */
const BOB_SECRET = ed25519.utils.randomSecretKey();

const OPERATIONS = [
  'account open',
  'account list',
  'credit',
  'debit',
  'balance',
  'query',
  'settle propose',
  'settle sign',
  'settle show',
  'settle list',
  'settle execute',
  'settle dispute',
  'settle verify',
  'audit',
];

/** A Treasury operation by name, or an Identity one as `identity <name>`. */
function operation(name: string): AnyOperation {
  const found = name.startsWith('identity ')
    ? identityEngine.operations.find((o) => `identity ${o.name}` === name)
    : treasuryEngine.operations.find((o) => o.name === name);
  if (found === undefined) throw new Error(`no operation "${name}"`);
  return found;
}

interface SettlementOut {
  settlement: { settlement_id: string; status: string; statement: string; missing_signatures: string[] };
}

describe('design gate: treasury', () => {
  let scratch: string;
  let ledger: Ledger;
  let scrollBefore = '';
  let receipts: Receipt[] = [];
  /** What each operation returned, by name, for the renderer checks. */
  const outputs = new Map<string, unknown>();

  const context = () => ({ ledger, clock: () => new Date(), cwd: scratch });
  /** Runs an operation as every interface does: raw input parsed by its schema, then run. */
  const run = async <O>(name: string, raw: Record<string, unknown>): Promise<O> => {
    const op = operation(name);
    const input: unknown = parseOperationInput(op, raw, (field) => `--${field}`);
    const output = (await op.run(context(), input)) as O;
    outputs.set(name, output);
    return output;
  };
  const scrollText = () => readFileSync(ledger.dataDir.scrollFile(treasuryScroll), 'utf8');
  const identityText = () => readFileSync(ledger.dataDir.scrollFile(identityScroll), 'utf8');
  const holderSignature = (statement: string) =>
    base64urlnopad.encode(ed25519.sign(new TextEncoder().encode(statement), BOB_SECRET));

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'vaultmesh-treasury-gate-'));
    await initDataDir(join(scratch, 'data'), 'gate');
    ledger = Ledger.open(join(scratch, 'data'));
    await run('identity did create', { type: 'human', id: 'alice' });
    await run('identity did create', {
      type: 'human',
      id: 'bob',
      publicKey: encodePublicKeyMultibase(ed25519.getPublicKey(BOB_SECRET)),
    });
    await run('identity did create', { type: 'human', id: 'carol' });

    await run('account open', { account: 'ops-eur', type: 'operational', currency: 'EUR', tag: ['ops'] });
    await run('account open', { account: 'vendor', type: 'external', currency: 'EUR', name: 'Vendors' });
    scrollBefore = scrollText();
    await run('account open', { account: 'reserve-btc', type: 'reserve', currency: 'BTC' });
    await run('credit', { account: 'ops-eur', amount: '100.50', memo: 'seed', entryId: 'e1' });
    await run('debit', { account: 'ops-eur', amount: '0.25', memo: 'fee', entryId: 'e2' });
    await run('credit', { account: 'reserve-btc', amount: '0.00000001', memo: 'dust', entryId: 'b1' });
    // The same entry again is recorded once.
    const again = await run<{ already: boolean }>('credit', {
      account: 'ops-eur',
      amount: '100.50',
      memo: 'seed',
      entryId: 'e1',
    });
    expect(again.already).toBe(true);

    await run('settle propose', {
      id: 's1',
      title: 'Vendor invoice 42',
      type: 'vendor_payment',
      signer: [ALICE, BOB],
      debit: ['ops-eur=60'],
      credit: ['vendor=60'],
      memo: 'invoice 42',
    });
    await run('settle sign', { id: 's1', as: ALICE });
    const shown = await run<{ statement: string }>('settle show', { id: 's1' });
    await run('settle sign', { id: 's1', as: BOB, signature: holderSignature(shown.statement) });
    await run('settle execute', { id: 's1' });
    await run('settle propose', {
      id: 's2',
      title: 'Disputed',
      type: 'client_invoice',
      signer: [ALICE],
      party: [ALICE, CAROL],
      debit: ['vendor=5'],
      credit: ['ops-eur=5'],
    });
    await run('settle dispute', { id: 's2', as: ALICE, reason: 'not ours' });
    await run('settle propose', {
      id: 's3',
      title: 'Pending',
      type: 'grant_disbursement',
      signer: [ALICE, BOB],
      debit: ['ops-eur=1.00'],
      credit: ['vendor=1.00'],
    });
    await run('settle sign', { id: 's3', as: ALICE });
    await run('account list', {});
    await run('balance', {});
    await run('query', { account: 'ops-eur' });
    await run('settle list', {});
    await run('audit', {});
    await run('settle verify', { dir: join(ledger.dataDir.root, 'cases/treasury/s1') });
    receipts = scrollText()
      .trimEnd()
      .split('\n')
      .map((line, seq) => parseReceiptLine(line, { scroll: 'treasury', seq }));
  });
  afterAll(async () => {
    await ledger.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('registered: the Treasury engine is served on its own scroll by the CLI, HTTP and MCP', () => {
    expect(ENGINE_SURFACES).toContain(treasuryEngine);
    expect(treasuryEngine.id).toBe('treasury');
    expect(treasuryEngine.scroll).toBe(treasuryScroll);
    expect(SCROLLS).toContain(treasuryScroll);
    expect(treasuryScroll.file).toBe('receipts/treasury/treasury_events.jsonl');
    expect(treasuryScroll.rootFile).toBe('ROOT.treasury.txt');
    expect(treasuryEngine.operations.map((o) => o.name)).toEqual(OPERATIONS);
  });

  it('operations: each has a summary, an input schema and a human renderer; lists have rows for CSV', () => {
    for (const op of treasuryEngine.operations) {
      expect(op.summary.length, op.name).toBeGreaterThan(10);
      expect(typeof op.input.safeParse, op.name).toBe('function');
      expect(['read', 'write'], op.name).toContain(op.access);
      // Only verifying a case directory reads files by path: it is offered on the command line alone.
      expect(op.local, op.name).toBe(op.name === 'settle verify' ? true : undefined);
      expect(typeof op.human, op.name).toBe('function');
      // Every field the CLI maps onto is a field of the input.
      const shape = (op.input as unknown as { shape: Record<string, unknown> }).shape;
      for (const field of [...(op.cli.arguments ?? []), ...(op.cli.options ?? [])].map((x) => x.field))
        expect(Object.keys(shape), `${op.name} --${field}`).toContain(field);
      // The renderer turns what the operation returned into text.
      const output = outputs.get(op.name);
      expect(output, op.name).toBeDefined();
      const text = op.human(output);
      expect(typeof text, op.name).toBe('string');
      expect(text.length, op.name).toBeGreaterThan(0);
    }
    const listLike = ['account list', 'balance', 'query', 'settle list'];
    expect(treasuryEngine.operations.filter((o) => o.rows !== undefined).map((o) => o.name)).toEqual([
      ...listLike,
      'audit',
    ]);
    // The books the gate kept break no rule: the audit is clean, and its listing empty.
    expect(outputs.get('audit')).toEqual({ ok: true, receipts: receipts.length, anomalies: [] });
    expect(operation('audit').rows!(outputs.get('audit')).rows).toEqual([]);
    for (const name of listLike) {
      const table = operation(name).rows!(outputs.get(name));
      expect(table.columns.length, name).toBeGreaterThan(0);
      expect(table.rows.length, name).toBeGreaterThan(0);
      for (const row of table.rows) {
        expect(row, name).toHaveLength(table.columns.length);
        for (const cell of row) expect(typeof cell, name).toBe('string');
      }
    }
    const accounts = operation('account list').rows!(outputs.get('account list'));
    expect(accounts.columns).toEqual([
      'account_id',
      'account_type',
      'currency',
      'balance',
      'entries',
      'display_name',
    ]);
    expect(accounts.rows).toEqual([
      ['ops-eur', 'operational', 'EUR', '40.25', '3', 'ops-eur'],
      ['vendor', 'external', 'EUR', '60.00', '1', 'Vendors'],
      ['reserve-btc', 'reserve', 'BTC', '0.00000001', '1', 'reserve-btc'],
    ]);
    const settlements = operation('settle list').rows!(outputs.get('settle list'));
    expect(settlements.rows.map((r) => [r[0], r[1], r[5]])).toEqual([
      ['s1', 'completed', '2/2'],
      ['s2', 'disputed', '0/1'],
      ['s3', 'pending_signatures', '1/2'],
    ]);
  });

  it('reserved: every receipt type the engine writes is registered and refused by the generic append paths', async () => {
    expect(treasuryScroll.types.map((t) => t.type)).toEqual([...TREASURY_TYPES]);
    expect(new Set(receipts.map((r) => r.type))).toEqual(new Set(TREASURY_TYPES));
    for (const type of TREASURY_TYPES) {
      expect(getReceiptType(treasuryScroll, type).reserved, type).toMatch(/Treasury engine/);
      let refused: unknown;
      try {
        assertAppendable({ scroll: 'treasury', type });
      } catch (error) {
        refused = error;
      }
      expect(refused, type).toBeInstanceOf(VaultMeshError);
      expect((refused as VaultMeshError).code).toBe('RESERVED_TYPE');
      expect((refused as VaultMeshError).hint).toContain('use vm treasury');
    }
    // `vm import` is a generic append path too: a legacy credit is refused, nothing written.
    const before = scrollText();
    const legacy = join(scratch, 'legacy.jsonl');
    writeFileSync(legacy, `${JSON.stringify({ type: 'treasury_credit', ...receipts[3]!.body })}\n`);
    const error = await importLegacy(ledger, legacy, 'treasury').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isVaultMeshError(error) && error.code).toBe('IMPORT_LINE');
    expect((error as VaultMeshError).message).toMatch(/treasury_credit receipts cannot be appended directly/);
    expect(scrollText()).toBe(before);
  });

  it('contract: every input is validated and every rule kept before anything is written', async () => {
    const before = scrollText();
    const identityBefore = identityText();
    const s3 = (await run<SettlementOut['settlement']>('settle show', { id: 's3' })).statement;
    const refusals: Array<[string, Record<string, unknown>, string]> = [
      ['account open', { account: 'ops-eur', type: 'operational', currency: 'EUR' }, 'ACCOUNT_EXISTS'],
      ['account open', { account: 'x', type: 'savings', currency: 'EUR' }, 'INVALID_ARGUMENT'],
      ['account open', { account: 'x', type: 'reserve', currency: 'XAU' }, 'INVALID_ARGUMENT'],
      ['account open', { account: 'bad/id', type: 'reserve', currency: 'EUR' }, 'INVALID_ARGUMENT'],
      ['credit', { account: 'ops-eur', amount: 12.5, memo: 'm' }, 'INVALID_ARGUMENT'],
      ['credit', { account: 'ops-eur', amount: '1.001', memo: 'm' }, 'INVALID_ARGUMENT'],
      ['credit', { account: 'ops-eur', amount: '0', memo: 'm' }, 'INVALID_ARGUMENT'],
      ['credit', { account: 'ops-eur', amount: '1e3', memo: 'm' }, 'INVALID_ARGUMENT'],
      ['credit', { account: 'ops-eur', amount: '-1', memo: 'm' }, 'INVALID_ARGUMENT'],
      ['credit', { account: 'ghost', amount: '1', memo: 'm' }, 'UNKNOWN_ACCOUNT'],
      ['credit', { account: 'ops-eur', amount: '1', memo: 'm', currency: 'BTC' }, 'CURRENCY_MISMATCH'],
      ['credit', { account: 'ops-eur', amount: '1.00', memo: 'm', entryId: 'e1' }, 'ENTRY_CONFLICT'],
      ['debit', { account: 'ops-eur', amount: '1000.00', memo: 'm' }, 'INSUFFICIENT_FUNDS'],
      ['debit', { account: 'reserve-btc', amount: '0.00000002', memo: 'm' }, 'INSUFFICIENT_FUNDS'],
      ['balance', { account: 'ghost' }, 'UNKNOWN_ACCOUNT'],
      [
        'settle propose',
        { title: 't', type: 'vendor_payment', signer: [ALICE], debit: ['ops-eur=2'], credit: ['vendor=1'] },
        'UNBALANCED_SETTLEMENT',
      ],
      [
        'settle propose',
        {
          title: 't',
          type: 'vendor_payment',
          signer: [ALICE],
          debit: ['ops-eur=1'],
          credit: ['reserve-btc=1'],
        },
        'CURRENCY_MISMATCH',
      ],
      [
        'settle propose',
        {
          title: 't',
          type: 'vendor_payment',
          signer: ['did:vm:human:nobody'],
          debit: ['ops-eur=1'],
          credit: ['vendor=1'],
        },
        'UNKNOWN_DID',
      ],
      [
        'settle propose',
        {
          id: 's1',
          title: 't',
          type: 'vendor_payment',
          signer: [ALICE],
          debit: ['ops-eur=1'],
          credit: ['vendor=1'],
        },
        'SETTLEMENT_EXISTS',
      ],
      [
        'settle propose',
        { title: 't', type: 'barter', signer: [ALICE], debit: ['ops-eur=1'], credit: ['vendor=1'] },
        'INVALID_ARGUMENT',
      ],
      [
        'settle propose',
        { title: 't', type: 'vendor_payment', signer: [ALICE], debit: ['ops-eur'], credit: ['vendor=1'] },
        'INVALID_ARGUMENT',
      ],
      ['settle sign', { id: 's9', as: ALICE }, 'UNKNOWN_SETTLEMENT'],
      ['settle sign', { id: 's1', as: ALICE }, 'SETTLEMENT_CLOSED'],
      ['settle sign', { id: 's3', as: ALICE }, 'DUPLICATE_SIGNATURE'],
      ['settle sign', { id: 's3', as: CAROL }, 'UNAUTHORIZED_SIGNER'],
      ['settle sign', { id: 's3', as: BOB }, 'KEY_NOT_HELD'],
      ['settle sign', { id: 's3', as: BOB, signature: holderSignature(`${s3} `) }, 'SIGNATURE_INVALID'],
      ['settle sign', { id: 's3', as: BOB, signature: 'not-a-signature' }, 'SIGNATURE_INVALID'],
      ['settle execute', { id: 's3' }, 'SETTLEMENT_NOT_READY'],
      ['settle execute', { id: 's2' }, 'SETTLEMENT_CLOSED'],
      ['settle dispute', { id: 's1', as: ALICE, reason: 'late' }, 'SETTLEMENT_CLOSED'],
      ['settle dispute', { id: 's3', as: CAROL, reason: 'who?' }, 'UNAUTHORIZED_SIGNER'],
    ];
    for (const [name, raw, code] of refusals) {
      const error = await run(name, raw).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, `${name} ${JSON.stringify(raw)}`).toBeInstanceOf(VaultMeshError);
      expect((error as VaultMeshError).code, `${name} ${JSON.stringify(raw)}`).toBe(code);
    }
    expect(scrollText()).toBe(before);
    expect(identityText()).toBe(identityBefore);
  });

  it('state: derived from the receipts alone, equal to a fold of the scroll file from scratch', () => {
    const fromFile = foldAll(treasuryFold, receipts);
    const { state } = currentBooks(context());
    expect(state).toEqual(fromFile);
    expect(new Map([...fromFile.accounts].map(([id, a]) => [id, a.balance]))).toEqual(
      new Map([
        ['ops-eur', 4025n],
        ['vendor', 6000n],
        ['reserve-btc', 1n],
      ]),
    );
    // s2 was disputed and gave its ids back; s3 is still open and holds its own.
    expect([...fromFile.entries.keys()]).toEqual(['e1', 'e2', 'b1', 's1-1', 's1-2', 's3-1', 's3-2']);
    expect(fromFile.entries.get('s3-1')).toMatchObject({ settlement_id: 's3', pending: true });
    expect(
      [...fromFile.settlements.values()].map((s) => [
        s.settlement_id,
        s.closed?.status,
        s.signatures.map((x) => x.signer),
      ]),
    ).toEqual([
      ['s1', 'completed', [ALICE, BOB]],
      ['s2', 'disputed', []],
      ['s3', undefined, [ALICE]],
    ]);
    expect(fromFile.settlements.get('s2')!.closed).toMatchObject({ reason: 'not ours', by: ALICE });
    expect(fromFile.size).toBe(receipts.length);
    expect(fromFile.anomalies).toEqual([]);
    expect(treasuryFold.decode(JSON.parse(JSON.stringify(treasuryFold.encode(fromFile))))).toEqual(fromFile);
  });

  it('receipts: one per change, in order, each line valid against its type schema', () => {
    expect(receipts.map((r) => [r.type, r.body.status])).toEqual([
      ['treasury_account_open', undefined],
      ['treasury_account_open', undefined],
      ['treasury_account_open', undefined],
      ['treasury_credit', undefined],
      ['treasury_debit', undefined],
      ['treasury_credit', undefined],
      ['treasury_settlement', 'pending_signatures'],
      ['treasury_settlement_signature', undefined],
      ['treasury_settlement_signature', undefined],
      ['treasury_settlement', 'completed'],
      ['treasury_settlement', 'pending_signatures'],
      ['treasury_settlement', 'disputed'],
      ['treasury_settlement', 'pending_signatures'],
      ['treasury_settlement_signature', undefined],
    ]);
    expect(receipts.map((r) => r.seq)).toEqual(receipts.map((_, i) => i));
    for (const r of receipts) {
      expect(r.scroll).toBe('treasury');
      expect(r.issuer).toBe(ledger.identity.did);
      expect(r.tags[0]).toBe('treasury');
      validateDraft({ scroll: r.scroll, type: r.type, body: r.body, tags: r.tags });
    }
    expect(receipts[3]!.body).toEqual({
      entry_id: 'e1',
      account: 'ops-eur',
      amount: '100.50',
      currency: 'EUR',
      memo: 'seed',
      balance_after: '100.50',
    });
    // Bob's signature is his own, handed in; Alice's was made with the key the node keeps for her.
    expect(receipts.filter((r) => r.type === 'treasury_settlement_signature').map((r) => r.body.kid)).toEqual(
      [`${ALICE}#key-1`, `${BOB}#key-1`, `${ALICE}#key-1`],
    );
  });

  it('case: a completed settlement leaves its contract, SIGNATURES.json, ARTIFACTS.sha256 and PROOF.json', () => {
    const dir = join(ledger.dataDir.root, 'cases/treasury/s1');
    for (const file of ['contract.json', 'SIGNATURES.json', 'ARTIFACTS.sha256', 'PROOF.json'])
      expect(existsSync(join(dir, file)), file).toBe(true);
    const completed = receipts.find((r) => r.body.status === 'completed')!;
    const manifest = readFileSync(join(dir, 'SIGNATURES.json'));
    expect(`sha256:${createHash('sha256').update(manifest).digest('hex')}`).toBe(
      completed.body.signatures_manifest_hash,
    );
    expect(completed.body.signatures_manifest).toBe('cases/treasury/s1/SIGNATURES.json');
    // Regenerated from the scroll, byte for byte.
    expect(manifest.toString('utf8')).toBe(
      signaturesManifest(currentBooks(context()).state.settlements.get('s1')!),
    );
    const contract = JSON.parse(readFileSync(join(dir, 'contract.json'), 'utf8')) as {
      settlement_id: string;
    };
    expect(contract).toEqual(currentBooks(context()).state.settlements.get('s1')!.contract);
    expect(readFileSync(join(dir, 'ARTIFACTS.sha256'), 'utf8')).toContain('SIGNATURES.json');
  });

  it('settle verify: the case checks out offline, and each kind of tampering is named', async () => {
    const dir = join(ledger.dataDir.root, 'cases/treasury/s1');
    type Verified = { ok: boolean; checks: Array<{ check: string; ok: boolean }> };
    const failing = (r: Verified) => r.checks.filter((c) => !c.ok).map((c) => c.check);
    const clean = await run<Verified>('settle verify', { dir });
    expect(clean.ok).toBe(true);
    expect(clean.checks.map((c) => c.check)).toEqual([
      'proof',
      'artifacts',
      'receipt',
      'contract',
      'manifest',
      'signatures',
      'signers',
      'entries',
    ]);
    const copy = (edit: (dir: string) => void) => {
      const target = mkdtempSync(join(scratch, 'case-'));
      cpSync(dir, target, { recursive: true });
      edit(target);
      return target;
    };
    const edited = (file: string, from: string | RegExp, to: string) => (target: string) => {
      const path = join(target, file);
      const text = readFileSync(path, 'utf8');
      expect(text).toMatch(from);
      writeFileSync(path, text.replace(from, to));
    };
    const contract = copy(edited('contract.json', '"amount": "60.00"', '"amount": "6.00"'));
    expect(failing(await run<Verified>('settle verify', { dir: contract }))).toEqual([
      'artifacts',
      'contract',
      'entries',
    ]);
    const signature = copy(edited('SIGNATURES.json', /"signature": "[A-Za-z0-9_-]{4}/, '"signature": "AAAA'));
    expect(failing(await run<Verified>('settle verify', { dir: signature }))).toEqual([
      'artifacts',
      'manifest',
    ]);
    // The receipt in the bundle says 61.00 where it said 60.00: its leaf is not in the signed tree.
    const proof = copy(edited('PROOF.json', '60.00', '61.00'));
    expect(failing(await run<Verified>('settle verify', { dir: proof }))).toEqual(['proof']);
    // Signed by another node's key: the checkpoint in PROOF.json does not open with it.
    const otherKey = generateNoteKey(ledger.identity.config.node.origin).vkey;
    expect(failing(await run<Verified>('settle verify', { dir, vkey: otherKey }))[0]).toBe('proof');
  });

  it('append-only: later operations only added lines after the earlier bytes', () => {
    const after = scrollText();
    expect(after.startsWith(scrollBefore)).toBe(true);
    expect(scrollBefore.trimEnd().split('\n')).toHaveLength(2);
    expect(after.slice(scrollBefore.length).trimEnd().split('\n')).toHaveLength(receipts.length - 2);
  });

  it('root: ROOT.treasury.txt and the signed checkpoint hold the tree root of the scroll', () => {
    expectRootAndCheckpoint(ledger, treasuryScroll, receipts.length);
  });

  it('anchor: a Guardian cycle with the local backend covers the Treasury scroll', async () => {
    await expectAnchored(ledger, treasuryScroll, receipts.length);
  });

  it('balance --as-of: the books as they stood before a time, equal to a fold of that prefix', async () => {
    const completed = receipts.find(
      (r) => r.type === 'treasury_settlement' && r.body.status === 'completed',
    )!;
    const before = receipts.slice(
      0,
      receipts.findIndex((r) => r.ts >= completed.ts),
    );
    const expected = foldAll(treasuryFold, before);
    const report = await run<{ accounts: Array<{ account_id: string; balance: string }>; receipts: number }>(
      'balance',
      { asOf: completed.ts },
    );
    expect(report.receipts).toBe(before.length);
    expect(report.accounts.map((a) => [a.account_id, a.balance])).toEqual(
      [...expected.accounts.values()].map((a) => [a.account_id, balanceText(a)]),
    );
    // Before the settlement ops-eur still held what it had; after it, 60.00 less.
    const now = await run<{ accounts: Array<{ account_id: string; balance: string }> }>('balance', {});
    const at = (r: { accounts: Array<{ account_id: string; balance: string }> }, id: string) =>
      r.accounts.find((a) => a.account_id === id)?.balance;
    expect(at(report, 'vendor')).toBe('0.00');
    expect(at(now, 'vendor')).toBe('60.00');
    expect(await run('balance', { asOf: '2000-01-01' })).toMatchObject({ accounts: [], receipts: 0 });
  });

  it('query: by type, by tag and by body field; the entries an account saw', async () => {
    const credits = ledger.query('treasury', { types: ['treasury_credit'], limit: 100 });
    expect(credits.map((r) => r.body.entry_id)).toEqual(['e1', 'b1']);
    const signatures = ledger.query('treasury', { tags: ['settlement', 'signature'], limit: 100 });
    expect(signatures.map((r) => r.seq)).toEqual([7, 8, 13]);
    const s1 = ledger.query('treasury', {
      where: [{ path: 'settlement_id', value: 's1', text: 's1' }],
      limit: 10,
    });
    expect(s1.map((r) => r.type)).toEqual([
      'treasury_settlement',
      'treasury_settlement_signature',
      'treasury_settlement_signature',
      'treasury_settlement',
    ]);
    const { entries } = await run<{ entries: Array<{ entry_id: string; balance_after: string }> }>('query', {
      account: 'ops-eur',
    });
    expect(entries.map((e) => [e.entry_id, e.balance_after])).toEqual([
      ['e1', '100.50'],
      ['e2', '100.25'],
      ['s1-1', '40.25'],
    ]);
    const report = await run<{ totals: Record<string, string> }>('balance', {});
    // Per currency, the books add up to what came in from outside less what went out.
    expect(report.totals).toEqual({ BTC: '0.00000001', EUR: '100.25' });
  });
});

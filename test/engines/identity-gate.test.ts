/**
 * The design gate's checklist (seed 001 §12) for the Identity engine, whose state is a fold of its
 * scroll rather than staged runs: each item judged on what its operations leave on disk, run in
 * process through the same input contract every interface uses.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAnchored, expectRootAndCheckpoint } from '../helpers/gate.js';
import { VaultMeshError } from '../../src/core/errors.js';
import { foldAll } from '../../src/core/fold.js';
import { identityFold } from '../../src/core/identity/registry.js';
import { parseReceiptLine, validateDraft, type Receipt } from '../../src/core/receipt.js';
import { identity as identityScroll } from '../../src/core/scrolls/identity.js';
import { SCROLLS } from '../../src/core/scrolls/index.js';
import type { AnyOperation } from '../../src/engines/framework/engine.js';
import { parseOperationInput } from '../../src/engines/framework/input.js';
import { identityEngine } from '../../src/engines/identity/index.js';
import { identityState } from '../../src/engines/identity/resolve.js';
import { ENGINE_SURFACES } from '../../src/engines/registry.js';
import { initDataDir } from '../../src/ledger/init.js';
import { Ledger } from '../../src/ledger/ledger.js';

const ALICE = 'did:vm:human:alice';
const AGENT = 'did:vm:agent:ci';

function operation(name: string): AnyOperation {
  const found = identityEngine.operations.find((o) => o.name === name);
  if (found === undefined) throw new Error(`no identity operation "${name}"`);
  return found;
}

describe('design gate: identity', () => {
  let scratch: string;
  let ledger: Ledger;
  let scrollBefore = '';
  let receipts: Receipt[] = [];
  let credentialId = '';

  /** Runs an operation as every interface does: raw input parsed by its schema, then run. */
  const run = async <O>(name: string, raw: Record<string, unknown>): Promise<O> => {
    const op = operation(name);
    const input: unknown = parseOperationInput(op, raw, (field) => `--${field}`);
    return (await op.run({ ledger, clock: () => new Date(), cwd: scratch }, input)) as O;
  };
  const scrollText = () => readFileSync(ledger.dataDir.scrollFile(identityScroll), 'utf8');

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'vaultmesh-identity-gate-'));
    await initDataDir(join(scratch, 'data'), 'gate');
    ledger = Ledger.open(join(scratch, 'data'));
    await run('did create', { type: 'human', id: 'alice' });
    scrollBefore = scrollText();
    await run('did create', { type: 'agent', id: 'ci', controller: ALICE });
    const issued = await run<{ credential_id: string }>('credential issue', {
      issuer: ALICE,
      subject: AGENT,
      type: 'AuditorCredential',
      claims: { role: 'auditor' },
    });
    credentialId = issued.credential_id;
    await run('capability grant', { holder: ALICE, capability: 'admin' });
    await run('capability grant', {
      holder: AGENT,
      capability: 'storage',
      scroll: 'treasury',
      grantedBy: ALICE,
    });
    await run('did rotate-key', { did: ALICE });
    await run('credential revoke', { credentialId, reason: 'superseded' });
    receipts = scrollText()
      .trimEnd()
      .split('\n')
      .map((line, seq) => parseReceiptLine(line, { scroll: 'identity', seq }));
  });
  afterAll(async () => {
    await ledger.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('registered: the Identity engine is served on its own scroll', () => {
    expect(ENGINE_SURFACES).toContain(identityEngine);
    expect(identityEngine.scroll).toBe(identityScroll);
    expect(identityScroll.file).toBe('receipts/identity/identity_events.jsonl');
  });

  it('contract: every input is validated before anything is written', async () => {
    const before = scrollText();
    const refusals: Array<[string, Record<string, unknown>, string]> = [
      ['did create', { type: 'robot', id: 'r2' }, 'INVALID_ARGUMENT'],
      ['did create', { type: 'human', id: 'al/ice' }, 'INVALID_DID'],
      ['did create', { type: 'human', id: 'alice' }, 'DID_EXISTS'],
      ['did create', { type: 'agent', id: 'x', publicKey: 'z6MkNOPE' }, 'INVALID_KEY'],
      ['credential issue', { subject: AGENT, type: 'auditor', claims: { a: 1 } }, 'INVALID_ARGUMENT'],
      ['credential issue', { subject: AGENT, type: 'Auditor', claims: '{bad' }, 'INVALID_JSON'],
      ['capability grant', { holder: AGENT, capability: 'root' }, 'INVALID_ARGUMENT'],
      ['capability grant', { holder: ALICE, capability: 'admin', grantedBy: AGENT }, 'FORBIDDEN'],
      ['did revoke', { did: 'did:vm:human:nobody', reason: 'x' }, 'UNKNOWN_DID'],
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
  });

  it('state: derived from the receipts alone, equal to a fold of the scroll file from scratch', () => {
    const fromFile = foldAll(identityFold, receipts);
    expect(identityState(ledger)).toEqual(fromFile);
    expect(Object.keys(fromFile.dids)).toEqual([ledger.identity.did, ALICE, AGENT]);
    expect(fromFile.dids[ALICE]!.keys.map((k) => [k.id, k.retired_seq === undefined])).toEqual([
      [`${ALICE}#key-1`, false],
      [`${ALICE}#key-2`, true],
    ]);
    expect(fromFile.credentials[credentialId]!.revoked?.reason).toBe('superseded');
    expect(Object.values(fromFile.grants).map((g) => g.granted_by)).toEqual([ledger.identity.did, ALICE]);
    expect(fromFile.anomalies).toEqual([]);
  });

  it('receipts: one per change, in order, each valid against its type schema', () => {
    expect(receipts.map((r) => r.type)).toEqual([
      'identity_did_create',
      'identity_did_create',
      'identity_did_create',
      'identity_credential_issue',
      'identity_capability_grant',
      'identity_capability_grant',
      'identity_did_rotate',
      'identity_credential_revoke',
    ]);
    expect(receipts.map((r) => r.seq)).toEqual(receipts.map((_, i) => i));
    for (const r of receipts) {
      expect(r.scroll).toBe('identity');
      validateDraft({ scroll: r.scroll, type: r.type, body: r.body, tags: r.tags });
    }
  });

  it('append-only: later operations only added lines after the earlier bytes', () => {
    const after = scrollText();
    expect(after.startsWith(scrollBefore)).toBe(true);
    expect(scrollBefore.trimEnd().split('\n')).toHaveLength(2);
    expect(after.slice(scrollBefore.length).trimEnd().split('\n')).toHaveLength(receipts.length - 2);
  });

  it('root: ROOT.identity.txt and the signed checkpoint hold the tree root of the scroll', () => {
    expectRootAndCheckpoint(ledger, identityScroll, receipts.length);
  });

  it('anchor: a Guardian cycle with the local backend covers the Identity scroll', async () => {
    expect(SCROLLS).toContain(identityScroll);
    await expectAnchored(ledger, identityScroll, receipts.length);
  });

  it('query: by type and by tag', () => {
    const creates = ledger.query('identity', { types: ['identity_did_create'], limit: 100 });
    expect(creates.map((r) => r.body.did)).toEqual([ledger.identity.did, ALICE, AGENT]);
    const grants = ledger.query('identity', { tags: ['capability', 'grant'], limit: 100 });
    expect(grants.map((r) => r.seq)).toEqual([4, 5]);
    const byBody = ledger.query('identity', {
      where: [{ path: 'credential_id', value: credentialId, text: credentialId }],
      limit: 10,
    });
    expect(byBody.map((r) => r.type)).toEqual(['identity_credential_issue', 'identity_credential_revoke']);
  });
});

/**
 * A key file the keystore holds but the DID document does not list — left by a rotation whose
 * receipt was never written (a crash between the two) — is never used to sign: credentials,
 * capability tokens and settlement signatures are made with the DID's current key.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { base64urlnopad } from '@scure/base';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyOperation } from '../../src/engines/framework/engine.js';
import { parseOperationInput } from '../../src/engines/framework/input.js';
import { identityEngine } from '../../src/engines/identity/index.js';
import { treasuryEngine } from '../../src/engines/treasury/index.js';
import { initDataDir } from '../../src/ledger/init.js';
import { Ledger } from '../../src/ledger/ledger.js';

const ALICE = 'did:vm:human:alice';

describe('a leftover key file in the keystore', () => {
  let scratch: string;
  let ledger: Ledger;

  const run = async <O>(operation: AnyOperation | undefined, raw: Record<string, unknown>): Promise<O> => {
    const input: unknown = parseOperationInput(operation!, raw, (field) => field);
    return (await operation!.run({ ledger, clock: () => new Date(), cwd: scratch }, input)) as O;
  };
  const identity = (name: string) => identityEngine.operations.find((o) => o.name === name);
  const treasury = (name: string) => treasuryEngine.operations.find((o) => o.name === name);

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'vaultmesh-keystore-'));
    await initDataDir(join(scratch, 'data'), 'keys');
    ledger = Ledger.open(join(scratch, 'data'));
    await run(identity('did create'), { type: 'human', id: 'alice' });
    // What an interrupted rotation leaves: key-2 on disk, key-1 still the document's key.
    const [dir] = readdirSync(join(ledger.dataDir.keysDir, 'dids'));
    const keyDir = join(ledger.dataDir.keysDir, 'dids', dir!);
    const first = JSON.parse(readFileSync(join(keyDir, 'key-1.json'), 'utf8')) as Record<string, string>;
    const leftover = {
      ...first,
      kid: `${ALICE}#key-2`,
      secret_key: base64urlnopad.encode(ed25519.utils.randomSecretKey()),
    };
    writeFileSync(join(keyDir, 'key-2.json'), `${JSON.stringify(leftover)}\n`, { mode: 0o600 });
  });

  afterAll(async () => {
    await ledger.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('a credential is signed with the current key and verifies', async () => {
    const issued = await run<{ credential: string }>(identity('credential issue'), {
      issuer: ALICE,
      subject: ALICE,
      type: 'AuditorCredential',
      claims: { role: 'auditor' },
    });
    const header = JSON.parse(Buffer.from(issued.credential.split('.')[0]!, 'base64url').toString()) as {
      kid: string;
    };
    expect(header.kid).toBe(`${ALICE}#key-1`);
    const verified = await run<{ ok: boolean }>(identity('credential verify'), {
      credential: issued.credential,
    });
    expect(verified.ok).toBe(true);
  });

  it('a settlement signature is made with the current key and recorded', async () => {
    await run(treasury('account open'), { account: 'ops', type: 'operational', currency: 'EUR' });
    await run(treasury('account open'), { account: 'world', type: 'external', currency: 'EUR' });
    await run(treasury('settle propose'), {
      id: 's1',
      title: 'one signer',
      type: 'vendor_payment',
      signer: [ALICE],
      debit: ['world=1.00'],
      credit: ['ops=1.00'],
    });
    const signed = await run<{ receipt: { body: { kid: string } } }>(treasury('settle sign'), {
      id: 's1',
      as: ALICE,
    });
    expect(signed.receipt.body.kid).toBe(`${ALICE}#key-1`);
    const done = await run<{ ok: boolean }>(treasury('settle execute'), { id: 's1' });
    expect(done.ok).toBe(true);
  });
});

/**
 * The Identity engine end to end, through the `vm` binary and `vm serve`: DIDs created, resolved,
 * rotated and revoked with their keys in the keystore or with their holder; bad input refused
 * with its code and nothing written; concurrent writers keeping the rules; VC-JWT credentials
 * verified here and by did-jwt-vc, each tampering failing with its reason; capability tokens
 * delegated through DIDs and honoured (or refused, and receipted) by the HTTP API.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { base64urlnopad } from '@scure/base';
import { verifyCredential as independentVerify } from 'did-jwt-vc';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.js';
import type { JsonObject } from '../../src/core/canonical.js';
import { blake3Tagged } from '../../src/core/hash.js';
import { signCredential } from '../../src/core/identity/credential.js';
import { decodePublicKeyMultibase, encodePublicKeyMultibase } from '../../src/core/identity/did.js';
import { parseVerifierKey } from '../../src/core/note.js';
import { startServer, type RunningServer } from '../helpers/node.js';
import {
  assertBuilt,
  initNode,
  jsonError,
  makeTempDir,
  readReceipts,
  snapshotDataDir,
  vm,
  vmAll,
  vmAsync,
  type VmResult,
} from '../helpers/vm.js';

assertBuilt();

const IDENTITY_FILE = 'receipts/identity/identity_events.jsonl';
const NODE_DID = 'did:vm:node:vault-01';
const ALICE = 'did:vm:human:alice';

interface Receipt {
  seq: number;
  type: string;
  tags: string[];
  body: Record<string, unknown>;
}
interface KeyRecord {
  id: string;
  publicKeyMultibase: string;
  added_seq: number;
  retired_seq?: number;
}
interface DidView {
  did: string;
  status: 'active' | 'revoked';
  key_custody: 'node' | 'node_keystore' | 'holder';
  controller?: string;
  current_keys: string[];
  keys: KeyRecord[];
  revoked?: { seq: number; at: string; reason: string };
  document: JsonObject & { verificationMethod: Array<{ id: string; publicKeyMultibase: string }> };
  document_hash: string;
  receipt_seq?: number;
}
interface Issued {
  credential_id: string;
  issuer: string;
  subject: string;
  seq: number;
  credential: string;
}
interface Verdict {
  ok: boolean;
  reason?: string;
  credential_id?: string;
  checks: Array<{ check: string; ok: boolean; detail: string }>;
}
interface Granted {
  token_id: string;
  holder: string;
  granted_by: string;
  grants: Array<{ capability: string; scroll?: string }>;
  seq: number;
  token: string;
}
interface CheckResult {
  ok: boolean;
  holder: string;
  via: string[];
  reason?: string;
}
interface KeyFile {
  path: string;
  did: string;
  kid: string;
  secret_key: string;
}

/** `vm --format json identity ARGS` on `data`. */
const identity = (data: string, ...args: string[]): VmResult =>
  vm(['--format', 'json', 'identity', ...args], { data });

function ok<T>(result: VmResult): T {
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
}

/** Expects the command to fail with `code` and exit `status`; returns the error. */
function refused(result: VmResult, code: string, status: number) {
  expect(result.status, result.stderr).toBe(status);
  const error = jsonError(result);
  expect(error.code).toBe(code);
  expect(error.hint).toBeDefined();
  return error;
}

/** Runs a command that must write nothing: every scroll, checkpoint, key and sidecar is unchanged. */
function writesNothing(data: string, run: () => VmResult): VmResult {
  const before = snapshotDataDir(data);
  const result = run();
  expect(snapshotDataDir(data)).toEqual(before);
  return result;
}

const receipts = (data: string) => readReceipts(join(data, IDENTITY_FILE)) as unknown as Receipt[];
const scrollText = (data: string) => readFileSync(join(data, IDENTITY_FILE), 'utf8');

/** The keystore's key files, parsed. */
function keyFiles(data: string): KeyFile[] {
  const root = join(data, 'keys/dids');
  return readdirSync(root).flatMap((dir) =>
    readdirSync(join(root, dir)).map((name) => {
      const path = join(root, dir, name);
      return { path, ...(JSON.parse(readFileSync(path, 'utf8')) as Omit<KeyFile, 'path'>) };
    }),
  );
}

const keysOf = (data: string, did: string) => keyFiles(data).filter((k) => k.did === did);
const secretOf = (file: KeyFile) => base64urlnopad.decode(file.secret_key);
const multibaseOfSecret = (file: KeyFile) => encodePublicKeyMultibase(ed25519.getPublicKey(secretOf(file)));
const modeOf = (path: string) => statSync(path).mode & 0o777;

/** RFC 4180 records: fields split on commas, quoted fields may hold commas, `""` and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const endField = () => {
    row.push(field);
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (!quoted && c === ',') {
      endField();
    } else if (!quoted && (c === '\n' || (c === '\r' && text[i + 1] === '\n'))) {
      if (c === '\r') i++;
      endField();
      rows.push(row);
      row = [];
    } else {
      field += c;
    }
  }
  if (field !== '' || row.length > 0) {
    endField();
    rows.push(row);
  }
  return rows;
}

/** A JWT's three parts, the first two decoded. */
function jwtParts(jwt: string) {
  const [header, payload, signature] = jwt.split('.') as [string, string, string];
  const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as JsonObject;
  return { header: decode(header), payload: decode(payload), headerText: header, signature };
}

/** The credential with its payload replaced and its signature kept. */
function withPayload(jwt: string, payload: JsonObject): string {
  const { headerText, signature } = jwtParts(jwt);
  return `${headerText}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
}

type Resolvable = Parameters<typeof independentVerify>[1];
type DidDocument = NonNullable<Awaited<ReturnType<Resolvable['resolve']>>['didDocument']>;

/** A did-jwt resolver that answers with the documents `vm identity did show` printed. */
function resolverOf(documents: Record<string, JsonObject>): Resolvable {
  return {
    resolve: async (didUrl: string) => ({
      didResolutionMetadata: {},
      didDocument: (documents[didUrl.split('#')[0]!] ?? null) as DidDocument | null,
      didDocumentMetadata: {},
    }),
  };
}

const tmp = makeTempDir('identity');
afterAll(() => tmp.remove());

describe('DIDs', () => {
  const data = join(tmp.dir, 'dids');
  const holderSecret = ed25519.utils.randomSecretKey();
  const holderKey = encodePublicKeyMultibase(ed25519.getPublicKey(holderSecret));
  let alice: DidView;
  let holder: DidView;

  beforeAll(() => {
    initNode(data);
    alice = ok<DidView>(identity(data, 'did', 'create', '--type', 'human', '--id', 'alice'));
    holder = ok<DidView>(
      identity(
        data,
        'did',
        'create',
        '--type',
        'agent',
        '--id',
        'ci',
        '--public-key',
        holderKey,
        '--controller',
        ALICE,
        '--service',
        'api=https://ci.example:9110/hooks',
      ),
    );
  });

  it('did create keeps the private key in a 0600 file in a 0700 directory, its public half in the document', () => {
    expect(alice).toMatchObject({
      did: ALICE,
      status: 'active',
      key_custody: 'node_keystore',
      current_keys: [`${ALICE}#key-1`],
    });
    const [file, ...more] = keysOf(data, ALICE);
    expect(more).toEqual([]);
    expect(file!.kid).toBe(`${ALICE}#key-1`);
    expect(modeOf(file!.path)).toBe(0o600);
    expect(modeOf(join(file!.path, '..'))).toBe(0o700);
    expect(modeOf(join(data, 'keys/dids'))).toBe(0o700);
    const method = alice.document.verificationMethod[0]!;
    expect(method).toMatchObject({ id: `${ALICE}#key-1`, type: 'Ed25519VerificationKey2020' });
    expect(method.publicKeyMultibase).toBe(multibaseOfSecret(file!));
  });

  it('the receipt holds public material only: the secret is nowhere in the scroll', () => {
    const [file] = keysOf(data, ALICE);
    const secret = secretOf(file!);
    const text = scrollText(data);
    for (const form of [
      file!.secret_key,
      toHex(secret),
      Buffer.from(secret).toString('base64'),
      Buffer.from(secret).toString('base64url'),
    ]) {
      expect(text).not.toContain(form);
    }
    const create = receipts(data).find((r) => r.type === 'identity_did_create' && r.body.did === ALICE)!;
    expect(create.seq).toBe(alice.receipt_seq);
    expect(create.body).toMatchObject({
      did: ALICE,
      did_type: 'human',
      created_by: NODE_DID,
      initial_keys: [`${ALICE}#key-1`],
      key_custody: 'node_keystore',
      did_document: alice.document,
      did_document_hash: alice.document_hash,
    });
    expect(create.tags).toEqual(['identity', 'did', 'create', 'human']);
  });

  it('--public-key leaves the key with its holder: no key file, the given key in the document', () => {
    expect(holder).toMatchObject({ key_custody: 'holder', controller: ALICE });
    expect(keysOf(data, holder.did)).toEqual([]);
    expect(holder.document.verificationMethod[0]!.publicKeyMultibase).toBe(holderKey);
    expect(holder.document.controller).toBe(ALICE);
    expect(holder.document.service).toEqual([
      { id: `${holder.did}#api`, type: 'VaultMeshNode', serviceEndpoint: 'https://ci.example:9110/hooks' },
    ]);
  });

  it('did show resolves a DID to its document; an unknown DID is UNKNOWN_DID (exit 3)', () => {
    const shown = ok<DidView>(identity(data, 'did', 'show', ALICE));
    expect(shown.document).toEqual(alice.document);
    expect(shown.keys).toEqual(alice.keys);
    const human = vm(['identity', 'did', 'show', ALICE], { data });
    expect(human.status).toBe(0);
    expect(human.stdout).toContain(`${ALICE}  active`);
    expect(human.stdout).toContain('"Ed25519VerificationKey2020"');
    const unknown = refused(identity(data, 'did', 'show', 'did:vm:human:nobody'), 'UNKNOWN_DID', 3);
    expect(unknown.evidence).toEqual({ field: '<did>', did: 'did:vm:human:nobody' });
    refused(identity(data, 'did', 'show', 'nobody'), 'INVALID_DID', 2);
  });

  it('did list --format csv gives one RFC 4180 row per DID', () => {
    const result = vm(['--format', 'csv', 'identity', 'did', 'list'], { data });
    expect(result.status, result.stderr).toBe(0);
    const [head, ...rows] = parseCsv(result.stdout);
    expect(head).toEqual(['did', 'status', 'keys', 'custody', 'created_at']);
    expect(rows.map((r) => r.slice(0, 4))).toEqual([
      [NODE_DID, 'active', `${NODE_DID}#key-1`, 'node'],
      [ALICE, 'active', `${ALICE}#key-1`, 'node_keystore'],
      [holder.did, 'active', `${holder.did}#key-1`, 'holder'],
    ]);
    for (const row of rows) expect(Number.isNaN(Date.parse(row[4]!))).toBe(false);
    const agents = ok<DidView[]>(identity(data, 'did', 'list', '--type', 'agent'));
    expect(agents.map((d) => d.did)).toEqual([holder.did]);
  });

  it("the node's own DID is recorded once, with the node's checkpoint key", () => {
    const creates = receipts(data).filter((r) => r.type === 'identity_did_create');
    expect(creates.filter((r) => r.body.did === NODE_DID).map((r) => r.seq)).toEqual([0]);
    const node = ok<DidView>(identity(data, 'did', 'show', NODE_DID));
    const vkey = vm(['vkey'], { data }).stdout.trim();
    const nodeKey = decodePublicKeyMultibase(node.document.verificationMethod[0]!.publicKeyMultibase);
    expect(toHex(nodeKey)).toBe(toHex(parseVerifierKey(vkey).publicKey));
    expect(node.key_custody).toBe('node');
  });

  it("the node's DID cannot be rotated or revoked here (INVALID_ARGUMENT, exit 2), and nothing is written", () => {
    const rotate = writesNothing(data, () => identity(data, 'did', 'rotate-key', NODE_DID));
    expect(refused(rotate, 'INVALID_ARGUMENT', 2).message).toContain("node's own DID");
    const revoke = writesNothing(data, () => identity(data, 'did', 'revoke', NODE_DID, '--reason', 'test'));
    refused(revoke, 'INVALID_ARGUMENT', 2);
  });

  it('rotate-key makes a new key, forgets the old one, and retires it at the rotation', () => {
    const [old] = keysOf(data, ALICE);
    const rotated = ok<DidView>(identity(data, 'did', 'rotate-key', ALICE));
    expect(rotated.current_keys).toEqual([`${ALICE}#key-2`]);
    const files = keysOf(data, ALICE);
    expect(files.map((f) => f.kid)).toEqual([`${ALICE}#key-2`]);
    expect(modeOf(files[0]!.path)).toBe(0o600);
    expect(rotated.document.verificationMethod.map((m) => m.id)).toEqual([`${ALICE}#key-2`]);
    expect(rotated.document.verificationMethod[0]!.publicKeyMultibase).toBe(multibaseOfSecret(files[0]!));
    expect(rotated.document).not.toEqual(alice.document);
    expect(rotated.document_hash).not.toBe(alice.document_hash);
    expect(rotated.keys).toEqual([
      { ...alice.keys[0]!, retired_seq: rotated.receipt_seq },
      {
        id: `${ALICE}#key-2`,
        publicKeyMultibase: multibaseOfSecret(files[0]!),
        added_seq: rotated.receipt_seq,
      },
    ]);
    const receipt = receipts(data).at(-1)!;
    expect(receipt).toMatchObject({ type: 'identity_did_rotate', seq: rotated.receipt_seq });
    expect(receipt.body).toMatchObject({
      did: ALICE,
      previous_keys: [`${ALICE}#key-1`],
      new_key: `${ALICE}#key-2`,
      rotated_by: NODE_DID,
      key_custody: 'node_keystore',
    });
    expect(scrollText(data)).not.toContain(old!.secret_key);
    expect(scrollText(data)).not.toContain(files[0]!.secret_key);
  });

  it("rotate-key of a holder's DID needs the holder's new --public-key", () => {
    const missing = writesNothing(data, () => identity(data, 'did', 'rotate-key', holder.did));
    expect(refused(missing, 'INVALID_ARGUMENT', 2).evidence).toEqual({ field: '--public-key' });
    const next = encodePublicKeyMultibase(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
    const rotated = ok<DidView>(identity(data, 'did', 'rotate-key', holder.did, '--public-key', next));
    expect(rotated.document.verificationMethod.map((m) => m.publicKeyMultibase)).toEqual([next]);
    expect(rotated.document.service).toEqual(holder.document.service);
    expect(rotated.document.controller).toBe(ALICE);
    expect(keysOf(data, holder.did)).toEqual([]);
  });

  it('revoke ends a DID: then rotating, revoking or issuing by it is DID_REVOKED, and nothing is written', async () => {
    ok<DidView>(identity(data, 'did', 'create', '--type', 'human', '--id', 'leaver'));
    const leaver = 'did:vm:human:leaver';
    const revoked = ok<DidView>(identity(data, 'did', 'revoke', leaver, '--reason', 'left the team'));
    expect(revoked).toMatchObject({ status: 'revoked', current_keys: [] });
    expect(revoked.revoked).toMatchObject({ seq: revoked.receipt_seq, reason: 'left the team' });
    expect(receipts(data).at(-1)!.body).toEqual({
      did: leaver,
      revoked_by: NODE_DID,
      reason: 'left the team',
    });
    const before = snapshotDataDir(data);
    const attempts = await vmAll(
      [
        ['did', 'rotate-key', leaver],
        ['did', 'revoke', leaver, '--reason', 'again'],
        [
          'credential',
          'issue',
          '--issuer',
          leaver,
          '--subject',
          ALICE,
          '--type',
          'EmployeeCredential',
          '--claims',
          '{"team":"ops"}',
        ],
        ['did', 'create', '--type', 'agent', '--id', 'orphan', '--controller', leaver],
      ].map((args) => ['--format', 'json', 'identity', ...args]),
      { data },
    );
    expect(snapshotDataDir(data)).toEqual(before);
    for (const attempt of attempts) expect(refused(attempt, 'DID_REVOKED', 2).evidence?.did).toBe(leaver);
    const listed = ok<DidView[]>(identity(data, 'did', 'list', '--status', 'revoked'));
    expect(listed.map((d) => d.did)).toEqual([leaver]);
  });

  it('vm verify passes on the Identity scroll after all of it', () => {
    const verified = vm(['verify', 'identity'], { data });
    expect(verified.status, verified.stderr).toBe(0);
  });
});

describe('bad input: each refused with its code and exit status, and nothing written', () => {
  const data = join(tmp.dir, 'bad-input');
  const holderKey = encodePublicKeyMultibase(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));

  const issue = (...args: string[]) => [
    'credential',
    'issue',
    '--subject',
    'did:vm:agent:ci',
    '--type',
    'AuditorCredential',
    '--claims',
    '{"role":"auditor"}',
    ...args,
  ];

  const CASES = [
    [
      'a --type that is no DID kind',
      ['did', 'create', '--type', 'robot', '--id', 'r2'],
      'INVALID_ARGUMENT',
      2,
      /^--type: /,
    ],
    [
      'an --id that cannot be a DID id',
      ['did', 'create', '--type', 'human', '--id', 'al/ice'],
      'INVALID_DID',
      2,
      /^id: /,
    ],
    [
      'a DID that exists',
      ['did', 'create', '--type', 'human', '--id', 'alice'],
      'DID_EXISTS',
      2,
      /exists already/,
    ],
    [
      "the node's own DID",
      ['did', 'create', '--type', 'node', '--id', 'vault-01'],
      'DID_EXISTS',
      2,
      /exists already/,
    ],
    [
      'an unknown --controller',
      ['did', 'create', '--type', 'agent', '--id', 'x', '--controller', 'did:vm:human:nobody'],
      'UNKNOWN_DID',
      3,
      /^--controller: /,
    ],
    [
      'a --controller that is not a DID',
      ['did', 'create', '--type', 'agent', '--id', 'x', '--controller', 'alice'],
      'INVALID_DID',
      2,
      /^--controller: /,
    ],
    [
      'a --public-key that is not a multibase key',
      ['did', 'create', '--type', 'agent', '--id', 'x', '--public-key', 'z6MkNOTAKEY'],
      'INVALID_KEY',
      2,
      /^--public-key: /,
    ],
    [
      'a --public-key that is an X25519 key',
      ['did', 'create', '--type', 'agent', '--id', 'x', '--public-key', `z6LS${holderKey.slice(4)}`],
      'INVALID_KEY',
      2,
      /^--public-key: /,
    ],
    [
      'a --service without a URL',
      ['did', 'create', '--type', 'agent', '--id', 'x', '--service', 'api=not a url'],
      'INVALID_ARGUMENT',
      2,
      /^--service api=not a url: /,
    ],
    [
      'a --service without a name',
      ['did', 'create', '--type', 'agent', '--id', 'x', '--service', 'https://x.example'],
      'INVALID_ARGUMENT',
      2,
      /^--service /,
    ],
    ['--claims that are not JSON', [...issue(), '--claims', '{role:'], 'INVALID_JSON', 2, /^--claims /],
    ['--claims that are an array', [...issue(), '--claims', '["x"]'], 'INVALID_ARGUMENT', 2, /^--claims /],
    [
      '--claims with an id',
      [...issue(), '--claims', '{"id":"did:vm:human:eve","role":"x"}'],
      'INVALID_ARGUMENT',
      2,
      /^--claims\.id: /,
    ],
    [
      'a credential --type not in PascalCase',
      [...issue(), '--type', 'auditor'],
      'INVALID_ARGUMENT',
      2,
      /^--type /,
    ],
    [
      'an --expires that is no duration',
      [...issue(), '--expires', 'soon'],
      'INVALID_ARGUMENT',
      2,
      /--expires/,
    ],
    ['a --subject that is not a DID', [...issue(), '--subject', 'bob'], 'INVALID_DID', 2, /^--subject: /],
    ['an unknown --issuer', issue('--issuer', 'did:vm:human:nobody'), 'UNKNOWN_DID', 3, /^--issuer: /],
    [
      'an --issuer whose key the node does not hold',
      issue('--issuer', 'did:vm:agent:held'),
      'KEY_NOT_HELD',
      3,
      /holds no private key for did:vm:agent:held/,
    ],
    [
      'a grant --granted-by an unknown DID',
      [
        'capability',
        'grant',
        '--holder',
        ALICE,
        '--capability',
        'read',
        '--granted-by',
        'did:vm:human:nobody',
      ],
      'UNKNOWN_DID',
      3,
      /^--granted-by: /,
    ],
    [
      'a grant with a --source-ip that is no address',
      ['capability', 'grant', '--holder', ALICE, '--capability', 'read', '--source-ip', '10.0.0.300'],
      'INVALID_ARGUMENT',
      2,
      /^--source-ip 10\.0\.0\.300 /,
    ],
    [
      'a grant on an unknown --scroll',
      ['capability', 'grant', '--holder', ALICE, '--capability', 'storage', '--scroll', 'nope'],
      'UNKNOWN_SCROLL',
      3,
      /nope/,
    ],
    [
      'a revoke of a credential never issued',
      ['credential', 'revoke', 'urn:uuid:nope', '--reason', 'x'],
      'UNKNOWN_CREDENTIAL',
      3,
      /urn:uuid:nope/,
    ],
    [
      'a revoke of a token never granted',
      ['capability', 'revoke', 'no-such-token', '--reason', 'x'],
      'NOT_RECORDED',
      3,
      /no-such-token/,
    ],
  ] as const;
  const results = new Map<string, VmResult>();
  let unchanged = false;

  beforeAll(async () => {
    initNode(data);
    ok<DidView>(identity(data, 'did', 'create', '--type', 'human', '--id', 'alice'));
    ok<DidView>(
      identity(data, 'did', 'create', '--type', 'agent', '--id', 'held', '--public-key', holderKey),
    );
    const before = snapshotDataDir(data);
    const calls = [...CASES.map(([, args]) => args), ['credential', 'verify', 'not.a.jwt']];
    const ran = await vmAll(
      calls.map((args) => ['--format', 'json', 'identity', ...args]),
      { data },
    );
    ran.forEach((result, i) => results.set(CASES[i]?.[0] ?? 'verify', result));
    // Every command below is refused: together they must leave every file as it was.
    unchanged = JSON.stringify(snapshotDataDir(data)) === JSON.stringify(before);
  });

  it('none of them wrote anything: scrolls, checkpoints, keys and sidecars are unchanged', () => {
    expect(unchanged).toBe(true);
  });

  it.each(CASES)('%s', (name, _, code, status, message) => {
    expect(refused(results.get(name)!, code, status).message).toMatch(message);
  });

  it('a credential that is not a VC-JWT verifies as INVALID with reason format (exit 4)', () => {
    const result = results.get('verify')!;
    expect(result.status).toBe(4);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, reason: 'format' });
  });
});

describe('concurrent writers', () => {
  it('4 processes create the same DID at once: one succeeds, the others get DID_EXISTS, one key is kept', async () => {
    const data = join(tmp.dir, 'race-same');
    initNode(data);
    const args = ['--format', 'json', 'identity', 'did', 'create', '--type', 'agent', '--id', 'racer'];
    const results = await Promise.all(Array.from({ length: 4 }, () => vmAsync(args, { data })));
    const winners = results.filter((r) => r.status === 0);
    expect(winners, results.map((r) => r.stderr).join('\n')).toHaveLength(1);
    for (const loser of results.filter((r) => r.status !== 0)) refused(loser, 'DID_EXISTS', 2);
    const created = JSON.parse(winners[0]!.stdout) as DidView;
    const files = keysOf(data, 'did:vm:agent:racer');
    expect(files.map((f) => f.kid)).toEqual(['did:vm:agent:racer#key-1']);
    expect(created.document.verificationMethod[0]!.publicKeyMultibase).toBe(multibaseOfSecret(files[0]!));
    const creates = receipts(data).filter((r) => r.type === 'identity_did_create');
    expect(creates.map((r) => r.body.did)).toEqual([NODE_DID, 'did:vm:agent:racer']);
  });

  it('4 processes create different DIDs at once: all recorded, the node DID once, vm verify passes', async () => {
    const data = join(tmp.dir, 'race-many');
    initNode(data);
    const ids = ['a1', 'a2', 'a3', 'a4'];
    const results = await Promise.all(
      ids.map((id) =>
        vmAsync(['--format', 'json', 'identity', 'did', 'create', '--type', 'agent', '--id', id], { data }),
      ),
    );
    for (const r of results) expect(r.status, r.stderr).toBe(0);
    const creates = receipts(data).filter((r) => r.type === 'identity_did_create');
    expect(creates.filter((r) => r.body.did === NODE_DID)).toHaveLength(1);
    expect(creates.map((r) => r.body.did as string).sort()).toEqual(
      [NODE_DID, ...ids.map((id) => `did:vm:agent:${id}`)].sort(),
    );
    const listed = ok<DidView[]>(identity(data, 'did', 'list'));
    expect(listed).toHaveLength(5);
    for (const view of listed.filter((d) => d.did !== NODE_DID)) {
      const [file] = keysOf(data, view.did);
      expect(view.document.verificationMethod[0]!.publicKeyMultibase).toBe(multibaseOfSecret(file!));
    }
    const verified = vm(['verify'], { data });
    expect(verified.status, verified.stderr).toBe(0);
  });
});

describe('credentials', () => {
  const data = join(tmp.dir, 'credentials');
  const subject = 'did:vm:agent:ci';
  const claims = { role: 'auditor', clearance: 3 };
  let issued: Issued;
  let documents: Record<string, JsonObject>;
  let mallory: KeyFile;
  let aliceKey: KeyFile;

  const issueBy = (issuer: string, ...more: string[]) =>
    ok<Issued>(
      identity(
        data,
        'credential',
        'issue',
        '--issuer',
        issuer,
        '--subject',
        subject,
        '--type',
        'AuditorCredential',
        '--claims',
        JSON.stringify(claims),
        ...more,
      ),
    );

  /** `vm identity credential verify`: the verdict and the exit status it came with. */
  const verify = (jwt: string, status: number): Verdict => {
    const result = identity(data, 'credential', 'verify', jwt);
    expect(result.status, result.stderr).toBe(status);
    return JSON.parse(result.stdout) as Verdict;
  };

  const failsWith = (jwt: string, reason: string): Verdict => {
    const verdict = verify(jwt, 4);
    expect(verdict).toMatchObject({ ok: false, reason });
    expect(verdict.checks.find((c) => !c.ok)?.check).toBe(reason);
    return verdict;
  };

  beforeAll(async () => {
    initNode(data);
    const created = await vmAll(
      [
        ['--format', 'json', 'identity', 'did', 'create', '--type', 'human', '--id', 'alice'],
        ['--format', 'json', 'identity', 'did', 'create', '--type', 'human', '--id', 'mallory'],
        ['--format', 'json', 'identity', 'did', 'create', '--type', 'agent', '--id', 'ci'],
      ],
      { data },
    );
    for (const r of created) expect(r.status, r.stderr).toBe(0);
    issued = issueBy(ALICE);
    documents = Object.fromEntries(
      [ALICE, 'did:vm:human:mallory'].map((did) => [
        did,
        ok<DidView>(identity(data, 'did', 'show', did)).document,
      ]),
    );
    mallory = keysOf(data, 'did:vm:human:mallory')[0]!;
    aliceKey = keysOf(data, ALICE)[0]!;
  });

  it('issue records hashes of the claims, never the values; verify passes every check (exit 0)', () => {
    const receipt = receipts(data).find((r) => r.seq === issued.seq)!;
    expect(receipt.type).toBe('identity_credential_issue');
    expect(receipt.body).toMatchObject({
      credential_id: issued.credential_id,
      credential_type: 'AuditorCredential',
      issuer: ALICE,
      subject,
      format: 'jwt_vc',
      kid: `${ALICE}#key-1`,
      claims_summary: {
        role: blake3Tagged(JSON.stringify('auditor')),
        clearance: blake3Tagged(JSON.stringify(3)),
      },
    });
    expect(JSON.stringify(receipt.body)).not.toContain('auditor"');
    expect(scrollText(data)).not.toContain(issued.credential);
    const verdict = verify(issued.credential, 0);
    expect(verdict).toMatchObject({ ok: true, credential_id: issued.credential_id });
    expect(verdict.reason).toBeUndefined();
    expect(verdict.checks.map((c) => [c.check, c.ok])).toEqual([
      ['format', true],
      ['issuer', true],
      ['key', true],
      ['signature', true],
      ['recorded', true],
      ['expiry', true],
      ['revocation', true],
    ]);
    const listed = ok<Array<{ credential_id: string }>>(
      identity(data, 'credential', 'list', '--issuer', ALICE),
    );
    expect(listed.map((c) => c.credential_id)).toEqual([issued.credential_id]);
  });

  it('the issued credential is verified by did-jwt-vc against the DID document vm resolves', async () => {
    const verified = await independentVerify(issued.credential, resolverOf(documents));
    expect(verified.issuer).toBe(ALICE);
    expect(verified.signer.id).toBe(`${ALICE}#key-1`);
    expect(verified.verifiableCredential.credentialSubject).toEqual({ id: subject, ...claims });
    expect(verified.verifiableCredential.type).toEqual(['VerifiableCredential', 'AuditorCredential']);
  });

  it('a changed claim fails with reason signature (exit 4), and did-jwt-vc refuses it too', async () => {
    const { payload } = jwtParts(issued.credential);
    const vc = payload.vc as JsonObject;
    const tampered = withPayload(issued.credential, {
      ...payload,
      vc: { ...vc, credentialSubject: { id: subject, ...claims, role: 'admin' } },
    });
    failsWith(tampered, 'signature');
    await expect(independentVerify(tampered, resolverOf(documents))).rejects.toThrow(/signature/);
  });

  /** A credential of alice's, made outside the node: naming `kid`, signed with `signer`'s key file. */
  const outsideCredential = (kid: string, signer: KeyFile, id: string, issuedAt = new Date()) =>
    signCredential({ id, type: 'AuditorCredential', issuer: ALICE, kid, subject, claims, issuedAt }, (m) =>
      ed25519.sign(m, secretOf(signer)),
    );

  it("iss=alice with mallory's kid fails with reason key", () => {
    const forged = outsideCredential(mallory.kid, mallory, 'urn:uuid:00000000-0000-4000-8000-000000000001');
    expect(failsWith(forged, 'key').checks.find((c) => c.check === 'key')!.detail).toContain(mallory.kid);
  });

  it("alice's kid but mallory's signature fails with reason signature", () => {
    const { payload } = jwtParts(issued.credential);
    const issuedAt = new Date((payload.iat as number) * 1000);
    failsWith(outsideCredential(`${ALICE}#key-1`, mallory, payload.jti as string, issuedAt), 'signature');
  });

  it("a credential signed with alice's own key but never issued through the node fails with reason recorded", () => {
    const unrecorded = outsideCredential(
      aliceKey.kid,
      aliceKey,
      'urn:uuid:00000000-0000-4000-8000-000000000002',
    );
    failsWith(unrecorded, 'recorded');
  });

  it('a credential past its --expires fails with reason expiry', async () => {
    const short = issueBy(ALICE, '--expires', '1s');
    const exp = jwtParts(short.credential).payload.exp as number;
    // Wait until the clock is past the expiry the credential states; the verdict does not depend on how long.
    while (Date.now() <= exp * 1000) await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 20));
    const verdict = failsWith(short.credential, 'expiry');
    expect(verdict.checks.find((c) => c.check === 'expiry')!.detail).toMatch(/^expired at /);
  });

  it('a revoked credential fails with reason revocation; revoking it again is refused', () => {
    const doomed = issueBy(ALICE);
    verify(doomed.credential, 0);
    ok(identity(data, 'credential', 'revoke', doomed.credential_id, '--reason', 'role ended'));
    const verdict = failsWith(doomed.credential, 'revocation');
    expect(verdict.checks.find((c) => c.check === 'revocation')!.detail).toContain('role ended');
    const again = writesNothing(data, () =>
      identity(data, 'credential', 'revoke', doomed.credential_id, '--reason', 'x'),
    );
    refused(again, 'INVALID_ARGUMENT', 2);
  });

  it('a credential whose issuer DID was revoked fails with reason issuer', () => {
    ok(identity(data, 'did', 'create', '--type', 'human', '--id', 'carol'));
    const byCarol = issueBy('did:vm:human:carol');
    ok(identity(data, 'did', 'revoke', 'did:vm:human:carol', '--reason', 'compromised'));
    const verdict = failsWith(byCarol.credential, 'issuer');
    expect(verdict.checks.find((c) => c.check === 'issuer')!.detail).toContain('compromised');
  });

  it('a credential stays valid after its issuer rotates its key; new ones are signed with the new key', () => {
    ok(identity(data, 'did', 'create', '--type', 'human', '--id', 'dave'));
    const before = issueBy('did:vm:human:dave');
    ok(identity(data, 'did', 'rotate-key', 'did:vm:human:dave'));
    expect(verify(before.credential, 0).ok).toBe(true);
    const after = issueBy('did:vm:human:dave');
    expect(jwtParts(after.credential).header.kid).toBe('did:vm:human:dave#key-2');
    expect(verify(after.credential, 0).ok).toBe(true);
  });
});

describe('capabilities', () => {
  const data = join(tmp.dir, 'capabilities');
  const AGENT = 'did:vm:agent:ci';
  let aliceAdmin: Granted;
  let agentStorage: Granted;

  const grant = (...args: string[]) => identity(data, 'capability', 'grant', ...args);
  const check = (...args: string[]) => identity(data, 'capability', 'check', ...args);

  beforeAll(async () => {
    initNode(data);
    const created = await vmAll(
      [
        ['--format', 'json', 'identity', 'did', 'create', '--type', 'human', '--id', 'alice'],
        ['--format', 'json', 'identity', 'did', 'create', '--type', 'agent', '--id', 'ci'],
      ],
      { data },
    );
    for (const r of created) expect(r.status, r.stderr).toBe(0);
  });

  it('alice cannot grant what she does not hold (FORBIDDEN, exit 7), and nothing is written', () => {
    const result = writesNothing(data, () =>
      grant('--holder', AGENT, '--capability', 'storage', '--scroll', 'treasury', '--granted-by', ALICE),
    );
    expect(refused(result, 'FORBIDDEN', 7).message).toContain(`${ALICE} does not hold storage:treasury`);
  });

  it('the node grants alice admin; alice grants the agent storage on treasury', () => {
    aliceAdmin = ok<Granted>(grant('--holder', ALICE, '--capability', 'admin'));
    expect(aliceAdmin).toMatchObject({
      holder: ALICE,
      granted_by: NODE_DID,
      grants: [{ capability: 'admin' }],
    });
    agentStorage = ok<Granted>(
      grant('--holder', AGENT, '--capability', 'storage', '--scroll', 'treasury', '--granted-by', ALICE),
    );
    expect(agentStorage).toMatchObject({
      holder: AGENT,
      granted_by: ALICE,
      grants: [{ capability: 'storage', scroll: 'treasury' }],
    });
    const receipt = receipts(data).find((r) => r.seq === agentStorage.seq)!;
    expect(receipt.type).toBe('identity_capability_grant');
    expect(receipt.body).toMatchObject({
      token_id: agentStorage.token_id,
      granted_by: ALICE,
      kid: `${ALICE}#key-1`,
    });
    expect(scrollText(data)).not.toContain(agentStorage.token);
    expect(scrollText(data)).not.toContain(aliceAdmin.token);
  });

  it('check says the agent HAS storage on treasury (exit 0) and does NOT on mesh (exit 4)', () => {
    const has = vm(
      [
        'identity',
        'capability',
        'check',
        '--holder',
        AGENT,
        '--capability',
        'storage',
        '--scroll',
        'treasury',
      ],
      { data },
    );
    expect(has.status, has.stderr).toBe(0);
    expect(has.stdout).toContain(`${AGENT} HAS storage on treasury (tokens: ${agentStorage.token_id})`);
    const not = vm(
      ['identity', 'capability', 'check', '--holder', AGENT, '--capability', 'storage', '--scroll', 'mesh'],
      { data },
    );
    expect(not.status).toBe(4);
    expect(not.stdout).toContain(`${AGENT} does NOT have storage on mesh`);
    const byToken = check('--token', agentStorage.token, '--capability', 'storage', '--scroll', 'treasury');
    expect(ok<CheckResult>(byToken)).toMatchObject({ ok: true, holder: AGENT, via: [agentStorage.token_id] });
  });

  it('the agent cannot hand on more than it holds (FORBIDDEN, exit 7), and nothing is written', () => {
    const result = writesNothing(data, () =>
      grant('--holder', ALICE, '--capability', 'storage', '--scroll', 'mesh', '--granted-by', AGENT),
    );
    refused(result, 'FORBIDDEN', 7);
  });

  it('capability list and vm token list show who granted each token', () => {
    const listed = ok<Array<{ id: string; granted_by: string }>>(identity(data, 'capability', 'list'));
    expect(listed.map((t) => [t.id, t.granted_by])).toEqual([
      [aliceAdmin.token_id, NODE_DID],
      [agentStorage.token_id, ALICE],
    ]);
    const csv = vm(['--format', 'csv', 'identity', 'capability', 'list', '--holder', AGENT], { data });
    expect(parseCsv(csv.stdout)).toEqual([
      ['token_id', 'holder', 'grants', 'granted_by', 'expires_at', 'status'],
      [agentStorage.token_id, AGENT, 'storage:treasury', ALICE, expect.any(String), 'granted'],
    ]);
    const tokens = ok<Array<{ id: string; granted_by: string }>>(
      vm(['--format', 'json', 'token', 'list'], { data }),
    );
    expect(tokens.find((t) => t.id === agentStorage.token_id)?.granted_by).toBe(ALICE);
    const human = vm(['token', 'list'], { data }).stdout.split('\n');
    expect(human[0]).toMatch(/^ID +SUBJECT +GRANTS +GRANTED BY +EXPIRES +STATE$/);
    expect(human.find((l) => l.startsWith(agentStorage.token_id))).toMatch(
      new RegExp(`storage:treasury +${ALICE.replace(/[.:]/g, '\\$&')} +`),
    );
  });

  it("revoking alice's admin grant makes the agent's token fail, naming alice", () => {
    ok(identity(data, 'capability', 'revoke', aliceAdmin.token_id, '--reason', 'alice moved teams'));
    const result = check('--token', agentStorage.token, '--capability', 'storage', '--scroll', 'treasury');
    expect(result.status).toBe(4);
    const verdict = JSON.parse(result.stdout) as CheckResult;
    expect(verdict).toMatchObject({ ok: false, via: [] });
    expect(verdict.reason).toContain(`${ALICE} no longer holds what it granted`);
    const holder = check('--holder', AGENT, '--capability', 'storage', '--scroll', 'treasury');
    expect(holder.status).toBe(4);
    const own = check('--token', aliceAdmin.token, '--capability', 'admin');
    expect(own.status).toBe(4);
    expect((JSON.parse(own.stdout) as CheckResult).reason).toContain('was revoked');
  });
});

describe('capability tokens over the HTTP API', () => {
  const data = join(tmp.dir, 'http');
  let server: RunningServer;
  let viaAlice: Granted;
  let storageOnly: Granted;
  let farAway: Granted;
  let local: Granted;

  const grant = (...args: string[]) => ok<Granted>(identity(data, 'capability', 'grant', ...args));
  const createDid = (token: string | undefined, id: string) =>
    fetch(`${server.url}/v1/engines/identity/did/create`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify({ type: 'agent', id }),
    });
  const events = (type: string) => receipts(data).filter((r) => r.type === type);

  beforeAll(async () => {
    initNode(data);
    ok(identity(data, 'did', 'create', '--type', 'human', '--id', 'alice'));
    grant('--holder', ALICE, '--capability', 'admin');
    viaAlice = grant('--holder', 'did:vm:agent:ops', '--capability', 'admin', '--granted-by', ALICE);
    storageOnly = grant(
      '--holder',
      'did:vm:agent:writer',
      '--capability',
      'storage',
      '--scroll',
      'identity',
      '--granted-by',
      ALICE,
    );
    farAway = grant(
      '--holder',
      'did:vm:agent:far',
      '--capability',
      'admin',
      '--granted-by',
      ALICE,
      '--source-ip',
      '10.9.9.9',
    );
    local = grant(
      '--holder',
      'did:vm:agent:near',
      '--capability',
      'admin',
      '--granted-by',
      ALICE,
      '--source-ip',
      '127.0.0.1',
    );
    server = await startServer(data);
  });

  afterAll(async () => {
    if (server !== undefined) {
      const exit = await server.stop();
      expect(exit, server.stderr()).toEqual({ code: 0, signal: null });
    }
  });

  it('a token alice granted with admin authorizes an engine write; its first use is an auth event', async () => {
    const res = await createDid(viaAlice.token, 'via-http');
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as DidView).did).toBe('did:vm:agent:via-http');
    const again = await createDid(viaAlice.token, 'via-http-2');
    expect(again.status).toBe(200);
    const shown = ok<DidView>(identity(data, 'did', 'show', 'did:vm:agent:via-http-2'));
    expect(shown.status).toBe('active');
    const successes = events('identity_auth_event').filter(
      (r) => r.body.credential_used === viaAlice.token_id,
    );
    expect(successes).toHaveLength(1);
    expect(successes[0]!.body).toMatchObject({
      subject: 'did:vm:agent:ops',
      target: NODE_DID,
      method: 'token',
      result: 'success',
      source_ip_hash: blake3Tagged('127.0.0.1'),
    });
    const allowed = events('identity_authz_decision').filter((r) => r.body.token_id === viaAlice.token_id);
    expect(allowed.map((r) => r.body.decision)).toEqual(['allow', 'allow']);
  });

  it('a storage token gets 403 for an admin write, with a deny decision receipted and nothing created', async () => {
    const res = await createDid(storageOnly.token, 'not-allowed');
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    const denied = events('identity_authz_decision').filter((r) => r.body.token_id === storageOnly.token_id);
    expect(denied.map((r) => r.body)).toEqual([
      expect.objectContaining({
        decision: 'deny',
        code: 'FORBIDDEN',
        action: 'POST /v1/engines/identity/did/create',
        required: 'admin:identity',
        subject: 'did:vm:agent:writer',
      }),
    ]);
    refused(identity(data, 'did', 'show', 'did:vm:agent:not-allowed'), 'UNKNOWN_DID', 3);
  });

  it('a token bound to --source-ip 10.9.9.9 is refused from 127.0.0.1; one bound to 127.0.0.1 works', async () => {
    const far = await createDid(farAway.token, 'from-far');
    expect(far.status).toBe(403);
    expect(((await far.json()) as { error: { message: string } }).error.message).toContain('10.9.9.9');
    const deny = events('identity_authz_decision').find((r) => r.body.token_id === farAway.token_id)!;
    expect(deny.body.decision).toBe('deny');
    const near = await createDid(local.token, 'from-near');
    expect(near.status).toBe(200);
    refused(identity(data, 'did', 'show', 'did:vm:agent:from-far'), 'UNKNOWN_DID', 3);
    expect(ok<DidView>(identity(data, 'did', 'show', 'did:vm:agent:from-near')).status).toBe('active');
  });

  it('a bad credential is refused (401) and receipted as a failed auth event with the address hashed', async () => {
    const before = events('identity_auth_event').length;
    const forged = `${viaAlice.token.slice(0, -2)}AA`;
    const res = await createDid(forged, 'forged');
    expect(res.status).toBe(401);
    const failures = events('identity_auth_event').slice(before);
    expect(failures.map((r) => r.body.result)).toEqual(['failure']);
    expect(failures[0]!.body).toMatchObject({
      subject: 'unknown',
      method: 'token',
      source_ip_hash: blake3Tagged('127.0.0.1'),
      mfa_verified: false,
    });
    expect(JSON.stringify(failures[0]!.body)).not.toContain('127.0.0.1');
    expect(failures[0]!.body.credential_used).toBeUndefined();
  });
});

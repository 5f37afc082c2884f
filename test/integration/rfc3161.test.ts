/**
 * The RFC 3161 backend against a real TSA: `openssl ts -reply` behind a small HTTP server, with a
 * test PKI made by the openssl CLI. The server can misbehave on demand (garbage, replays, tokens
 * from an untrusted CA or from certificates openssl itself would refuse to stamp with, rejections,
 * silence), and every misbehaviour must be caught by name. One token is also checked by
 * `openssl ts -verify`, to show the evidence is standard.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentInfo, PKIStatus, PKIStatusInfo, SignedData, TimeStampReq, TimeStampResp } from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.js';
import type { AnchorBackend, EvidenceFile } from '../../src/engines/guardian/backend.js';
import {
  createRfc3161Backend,
  rfc3161ConfigSchema,
  type Rfc3161Config,
} from '../../src/engines/guardian/backends/rfc3161.js';
import { TSA_POLICY as POLICY, TestPki, startTsaServer } from '../helpers/tsa.js';

const TSTINFO = '1.2.840.113549.1.9.16.1.4';

/** How the test TSA answers the next queries. */
type Mode =
  | 'good'
  | 'no-certs'
  | 'untrusted'
  | 'no-eku'
  | 'soft-eku'
  | 'as-data'
  | 'reject'
  | 'replay'
  | 'garbage'
  | 'wrong-type'
  | 'hang';

let dir: string;
let pki: TestPki;
let mode: Mode = 'good';
let lastReply: Buffer | undefined;
let url: string;
let closeServer: () => Promise<void>;
const never = new AbortController().signal;

/**
 * The same TSTInfo re-signed with `openssl cms`, which (unlike `openssl ts -reply`) signs with
 * any certificate, so that certificates a TSA must not use can be put to the test. With
 * `asData`, the TSTInfo is signed as plain data and only then labelled a TSTInfo.
 */
function resign(reply: Buffer, signer: string, asData = false): Buffer {
  const token = TimeStampResp.fromBER(reply).timeStampToken!;
  const tstInfo = new SignedData({ schema: token.content }).encapContentInfo.eContent!.getValue();
  writeFileSync(join(dir, 'tstinfo.der'), new Uint8Array(tstInfo));
  pki.openssl(
    `cms -sign -binary -nodetach -in tstinfo.der -signer ${signer}.crt -inkey ${signer}.key ` +
      `-certfile ca.crt -md sha256 -nosmimecap -outform DER -out token.der` +
      (asData ? '' : ` -econtent_type ${TSTINFO}`),
  );
  let signed = ContentInfo.fromBER(readFileSync(join(dir, 'token.der')));
  if (asData) {
    const signedData = new SignedData({ schema: signed.content });
    signedData.encapContentInfo.eContentType = TSTINFO;
    signed = new ContentInfo({ contentType: signed.contentType, content: signedData.toSchema() });
  }
  const response = new TimeStampResp({
    status: new PKIStatusInfo({ status: PKIStatus.granted }),
    timeStampToken: signed,
  });
  return Buffer.from(response.toSchema().toBER());
}

function withoutCertReq(query: Buffer): Buffer {
  const request = TimeStampReq.fromBER(query);
  request.certReq = false;
  return Buffer.from(request.toSchema().toBER());
}

function answer(query: Buffer, res: ServerResponse): void {
  const reply = (body: Buffer, type = 'application/timestamp-reply'): void => {
    res.writeHead(200, { 'content-type': type }).end(body);
  };
  switch (mode) {
    case 'hang':
      return;
    case 'garbage':
      return reply(Buffer.from('this is not a time-stamp reply'));
    case 'replay':
      return reply(lastReply!);
    case 'wrong-type':
      return reply(pki.stamp(query), 'text/html');
    case 'reject':
      return reply(pki.stamp(query, 'tsa', 'ca', 'tsa_sha384_only'));
    case 'untrusted':
      return reply(pki.stamp(query, 'tsa2', 'ca2'));
    case 'no-certs':
      return reply(pki.stamp(withoutCertReq(query)));
    case 'no-eku':
      return reply(resign(pki.stamp(query), 'tsa_no_eku'));
    case 'soft-eku':
      return reply(resign(pki.stamp(query), 'tsa_soft_eku'));
    case 'as-data':
      return reply(resign(pki.stamp(query), 'tsa', true));
    case 'good':
      lastReply = pki.stamp(query);
      return reply(lastReply);
  }
}

function config(overrides: Partial<Rfc3161Config> = {}): Rfc3161Config {
  return rfc3161ConfigSchema.parse({ name: 'test-tsa', url, ca_cert_path: 'ca.crt', ...overrides });
}

function backend(overrides: Partial<Rfc3161Config> = {}): AnchorBackend {
  return createRfc3161Backend(config(overrides), dir);
}

function newDigest(): Uint8Array {
  return createHash('sha256').update(randomBytes(16)).digest();
}

function token(files: EvidenceFile[]): Buffer {
  return Buffer.from(files.find((f) => f.name === 'token.tsr')!.bytes);
}

function failure(code: string, message: string): object {
  return { name: 'VaultMeshError', code, message: expect.stringContaining(message) };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vaultmesh-it-rfc3161-'));
  pki = new TestPki(dir);
  pki.makeTsa();
  pki.makeLeaf('tsa_no_eku', 'TSA Without EKU', 'ca', 'v3_no_eku');
  pki.makeLeaf('tsa_soft_eku', 'TSA With Non-critical EKU', 'ca', 'v3_soft_eku');
  pki.makeRoot('ca2', 'Untrusted Root');
  pki.makeLeaf('tsa2', 'Untrusted TSA', 'ca2', 'v3_tsa');
  writeFileSync(join(dir, 'not-a-cert.pem'), 'hello\n');
  const server = await startTsaServer(answer);
  url = server.url;
  closeServer = server.close;
});

afterAll(async () => {
  await closeServer();
  rmSync(dir, { recursive: true, force: true });
});

describe('rfc3161 backend', () => {
  const digest = newDigest();
  let good: EvidenceFile[];
  let goodTime: string;

  it('stamps a digest and verifies the token it got', async () => {
    mode = 'good';
    const tsa = backend();
    expect([tsa.kind, tsa.name, tsa.endpoint]).toEqual(['rfc3161', 'test-tsa', url]);
    const evidence = await tsa.submit({ digest, signal: never });
    good = evidence.files;
    goodTime = evidence.time!;
    expect(evidence.status).toBe('confirmed');
    expect(evidence.files.map((f) => f.name)).toEqual(['token.tsr']);
    expect(token(evidence.files).equals(lastReply!)).toBe(true);
    const tsaCert = new X509Certificate(readFileSync(join(dir, 'tsa.crt')));
    expect(evidence.summary).toEqual({
      tsa: 'test-tsa',
      url,
      gen_time: evidence.time,
      serial: expect.stringMatching(/^[0-9a-f]+$/),
      policy: POLICY,
      signer: 'VaultMesh Test TSA',
      signer_sha256: tsaCert.fingerprint256.replaceAll(':', '').toLowerCase(),
    });
    expect(Math.abs(Date.parse(evidence.time!) - Date.now())).toBeLessThan(60_000);

    const verified = await tsa.verify(digest, evidence.files, never);
    expect(verified).toEqual({
      detail: `RFC 3161 token from VaultMesh Test TSA at ${evidence.time} (serial ${String(evidence.summary.serial)}), chained to VaultMesh Test Root`,
      time: evidence.time,
      final: true,
    });
  });

  it('makes tokens that openssl ts -verify accepts', () => {
    writeFileSync(join(dir, 'token.tsr'), token(good));
    const run = spawnSync(
      'openssl',
      ['ts', '-verify', '-digest', toHex(digest), '-in', 'token.tsr', '-CAfile', 'ca.crt'],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(run.stdout + run.stderr).toContain('Verification: OK');
    expect(run.status).toBe(0);
  });

  it('refuses a token for another digest', async () => {
    await expect(backend().verify(newDigest(), good, never)).rejects.toMatchObject(
      failure('BUNDLE_INVALID', 'the token stamps another digest'),
    );
    mode = 'replay';
    await expect(backend().submit({ digest: newDigest(), signal: never })).rejects.toMatchObject(
      failure('BUNDLE_INVALID', 'the token stamps another digest'),
    );
  });

  it('refuses a replayed reply: same digest, another nonce', async () => {
    mode = 'replay';
    await expect(backend().submit({ digest, signal: never })).rejects.toMatchObject(
      failure('BUNDLE_INVALID', 'the nonce in the reply differs from the request'),
    );
  });

  it('refuses a token whose signature or signed content was altered', async () => {
    const bytes = token(good);
    const signerInfo = new SignedData({ schema: TimeStampResp.fromBER(bytes).timeStampToken!.content })
      .signerInfos[0]!;
    const at = bytes.indexOf(Buffer.from(signerInfo.signature.valueBlock.valueHexView));
    expect(at).toBeGreaterThan(0);
    const badSignature = Buffer.from(bytes);
    badSignature[at + 17]! ^= 0x01;
    await expect(
      backend().verify(digest, [{ name: 'token.tsr', bytes: badSignature }], never),
    ).rejects.toMatchObject(failure('SIGNATURE_INVALID', 'the token signature does not verify'));

    // genTime moved a year later inside the signed TSTInfo (GeneralizedTime, YYYYMMDDHHMMSSZ).
    const genTime = `${goodTime.slice(0, 19).replace(/[-T:]/g, '')}Z`;
    const time = bytes.indexOf(Buffer.from(genTime, 'latin1'));
    expect(time).toBeGreaterThan(0);
    const otherTime = Buffer.from(bytes);
    otherTime.write(String(Number(genTime.slice(0, 4)) + 1), time, 'latin1');
    await expect(
      backend().verify(digest, [{ name: 'token.tsr', bytes: otherTime }], never),
    ).rejects.toMatchObject(failure('SIGNATURE_INVALID', 'the token signature does not verify'));

    // Signed by the real TSA key, but as plain data: only the signed content type tells.
    mode = 'as-data';
    await expect(backend().submit({ digest, signal: never })).rejects.toMatchObject(
      failure('SIGNATURE_INVALID', 'the token signature does not cover a TSTInfo content type'),
    );
  });

  it('refuses a signer that does not chain to ca_cert_path', async () => {
    mode = 'untrusted';
    await expect(backend().submit({ digest, signal: never })).rejects.toMatchObject(
      failure('UNKNOWN_SIGNER', 'the signer certificate is not trusted (does not chain to ca_cert_path)'),
    );
    await expect(backend({ ca_cert_path: 'ca2.crt' }).verify(digest, good, never)).rejects.toMatchObject(
      failure('UNKNOWN_SIGNER', 'the signer certificate is not trusted'),
    );
  });

  it('refuses a signer without a critical timeStamping extended key usage', async () => {
    mode = 'no-eku';
    await expect(backend().submit({ digest, signal: never })).rejects.toMatchObject(
      failure('UNKNOWN_SIGNER', 'the signer certificate lacks the timeStamping extended key usage'),
    );
    mode = 'soft-eku';
    await expect(backend().submit({ digest, signal: never })).rejects.toMatchObject(
      failure('UNKNOWN_SIGNER', 'non-critical (RFC 3161 §2.3 requires critical)'),
    );
  });

  it('holds the signer to pin_sha256', async () => {
    const pin = new X509Certificate(readFileSync(join(dir, 'tsa.crt'))).fingerprint256
      .replaceAll(':', '')
      .toLowerCase();
    const wrong = createHash('sha256').update('another certificate').digest('hex');
    await expect(backend({ pin_sha256: wrong }).verify(digest, good, never)).rejects.toMatchObject(
      failure('UNKNOWN_SIGNER', 'the signer does not match pin_sha256'),
    );
    mode = 'good';
    const pinned = backend({ pin_sha256: pin });
    const evidence = await pinned.submit({ digest, signal: never });
    await expect(pinned.verify(digest, evidence.files, never)).resolves.toMatchObject({ final: true });
  });

  it('takes the TSA certificate from tsa_cert_path when the token leaves it out', async () => {
    mode = 'no-certs';
    await expect(backend().submit({ digest, signal: never })).rejects.toMatchObject(
      failure('UNKNOWN_SIGNER', 'the token does not include the signer certificate'),
    );
    const withCert = backend({ tsa_cert_path: 'tsa.crt' });
    const evidence = await withCert.submit({ digest, signal: never });
    await expect(withCert.verify(digest, evidence.files, never)).resolves.toMatchObject({
      detail: expect.stringContaining('from VaultMesh Test TSA'),
    });
  });

  it('reports a refusal with its PKIStatus and failInfo', async () => {
    mode = 'reject';
    await expect(backend().submit({ digest, signal: never })).rejects.toMatchObject(
      failure('IO_ERROR', `the TSA at ${url} refused the request: rejection (badAlg`),
    );
  });

  it('refuses replies that are not time-stamp replies', async () => {
    mode = 'garbage';
    await expect(backend().submit({ digest, signal: never })).rejects.toMatchObject(
      failure('IO_ERROR', `the reply of the TSA at ${url} is not a DER TimeStampResp`),
    );
    mode = 'wrong-type';
    await expect(backend().submit({ digest, signal: never })).rejects.toMatchObject(
      failure('IO_ERROR', 'answered text/html, not application/timestamp-reply'),
    );
    const garbage = { name: 'token.tsr', bytes: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]) };
    await expect(backend().verify(digest, [garbage], never)).rejects.toMatchObject(
      failure('BUNDLE_INVALID', 'token.tsr is not a DER TimeStampResp'),
    );
    await expect(backend().verify(digest, [], never)).rejects.toMatchObject(
      failure('BUNDLE_INVALID', 'the evidence has no token.tsr'),
    );
  });

  it('gives up on a silent TSA after timeout_ms, and when the caller aborts', async () => {
    mode = 'hang';
    const started = Date.now();
    await expect(backend({ timeout_ms: 300 }).submit({ digest, signal: never })).rejects.toMatchObject(
      failure('IO_ERROR', `the TSA at ${url} did not answer within 300 ms`),
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    await expect(backend().submit({ digest, signal: AbortSignal.timeout(200) })).rejects.toMatchObject(
      failure('IO_ERROR', `the request to the TSA at ${url} was aborted`),
    );
  });

  it('checks its configuration when it is created', () => {
    expect(() => backend({ ca_cert_path: 'missing.crt' })).toThrow(
      expect.objectContaining(
        failure('INVALID_CONFIG', `ca_cert_path: cannot read ${join(dir, 'missing.crt')}`),
      ),
    );
    expect(() => backend({ ca_cert_path: 'not-a-cert.pem' })).toThrow(
      expect.objectContaining(failure('INVALID_CONFIG', 'ca_cert_path')),
    );
    expect(() => backend({ tsa_cert_path: 'missing.crt' })).toThrow(
      expect.objectContaining(failure('INVALID_CONFIG', 'tsa_cert_path')),
    );
    expect(config().timeout_ms).toBe(10_000);
    const parse = (value: object) => rfc3161ConfigSchema.safeParse({ ...config(), ...value }).success;
    expect(parse({ url: 'ftp://127.0.0.1/tsa' })).toBe(false);
    expect(parse({ name: 'Bad Name' })).toBe(false);
    expect(parse({ pin_sha256: 'AB'.repeat(32) })).toBe(false);
    expect(parse({ timeout_ms: 50 })).toBe(false);
    expect(parse({ extra: true })).toBe(false);
  });

  it('verifies stored evidence offline, with the TSA stopped', async () => {
    await closeServer();
    const tsa = backend();
    await expect(tsa.submit({ digest, signal: never })).rejects.toMatchObject(
      failure('IO_ERROR', `cannot reach the TSA at ${url}`),
    );
    const stored = [{ name: 'token.tsr', bytes: new Uint8Array(token(good)) }];
    await expect(tsa.verify(digest, stored, never)).resolves.toMatchObject({
      detail: expect.stringContaining('chained to VaultMesh Test Root'),
      final: true,
    });
  });
});

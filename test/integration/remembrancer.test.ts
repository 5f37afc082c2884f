/**
 * The Remembrancer end to end, through the `vm` binary: `remembrancer record` pins an artifact to
 * a component version (case directory, evidence, Ed25519 signed note, optional OpenPGP signature,
 * sealed receipt), `remembrancer verify` checks a file against its record, and `query` / `list`
 * find what was deployed.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as NoteModule from '../../src/core/note.js';
import {
  REPO,
  assertBuilt,
  initNode,
  jsonError,
  makeTempDir,
  readReceipts,
  sha256File,
  vm,
  vmAll,
  type VmOptions,
  type VmResult,
} from '../helpers/vm.js';

assertBuilt();

// The built note module, as the CLI runs it.
const note = (await import(join(REPO, 'dist/core/note.js'))) as typeof NoteModule;

const SCROLL_FILE = 'receipts/remembrancer/deployments.jsonl';

interface Check {
  check: string;
  status: 'ok' | 'fail' | 'skipped';
  detail: string;
}
interface Verdict {
  deployment: string;
  seq: number | null;
  ok: boolean;
  checks: Check[];
}
interface VerifyOutput {
  ok: boolean;
  sha256: string;
  deployments: Verdict[];
}
interface Receipt {
  seq: number;
  type: string;
  tags: string[];
  body: Record<string, unknown>;
}
interface RecordOutput {
  receipt: Receipt;
  caseDir: string;
  already: boolean;
}

const sha256Of = (bytes: string | Uint8Array): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

const caseDirOf = (data: string, id: string): string => join(data, 'cases/remembrancer', id);

/** `vm --format json remembrancer ARGS`. */
const remembrancer = (args: readonly string[], options: VmOptions): VmResult =>
  vm(['--format', 'json', 'remembrancer', ...args], options);

function parsed<T>(result: VmResult, status = 0): T {
  expect(result.status, result.stderr).toBe(status);
  return JSON.parse(result.stdout) as T;
}

/** The one deployment verdict of a verify output, with its checks by name. */
function verdictOf(output: VerifyOutput): { verdict: Verdict; byName: Map<string, Check> } {
  expect(output.deployments).toHaveLength(1);
  const verdict = output.deployments[0]!;
  return { verdict, byName: new Map(verdict.checks.map((c) => [c.check, c])) };
}

function statusOf(byName: Map<string, Check>, check: string): Check['status'] | undefined {
  return byName.get(check)?.status;
}

const tmp = makeTempDir('remembrancer');
afterAll(() => tmp.remove());

describe('a deployment recorded with its artifact, evidence and chain reference', () => {
  const data = join(tmp.dir, 'data');
  const work = join(tmp.dir, 'work');
  const artifactBytes = 'api build 1.0.0\n\u0000\u0001binary tail\n';
  const evidenceText = 'ci: 412 tests passed\n';
  let first: VmResult;
  let vkey: string;
  const opts = { data, cwd: work };

  beforeAll(() => {
    mkdirSync(work, { recursive: true });
    initNode(data);
    vkey = vm(['vkey'], { data }).stdout.trim();
    writeFileSync(join(work, 'app.tar'), artifactBytes);
    writeFileSync(join(work, 'build.log'), evidenceText);
    first = remembrancer(
      [
        'record',
        '--component',
        'api',
        '--version',
        '1.0.0',
        '--artifact',
        'app.tar',
        '--evidence',
        'build.log',
        '--chain-ref',
        'git:4f2a9c1',
      ],
      opts,
    );
  });

  it('writes the case directory, a manifest sha256sum accepts, a proof bundle and the receipt', () => {
    const out = parsed<RecordOutput>(first);
    expect(out.already).toBe(false);
    const dir = caseDirOf(data, 'api@1.0.0');
    expect(out.caseDir).toBe(dir);
    for (const file of [
      'outputs/evidence/build.log',
      'outputs/signatures/artifact.sig',
      'ARTIFACTS.sha256',
      'PROOF.json',
    ]) {
      expect(existsSync(join(dir, file)), file).toBe(true);
    }
    expect(existsSync(join(dir, 'outputs/signatures/artifact.asc'))).toBe(false);
    expect(readFileSync(join(dir, 'outputs/evidence/build.log'), 'utf8')).toBe(evidenceText);
    const manifest = readFileSync(join(dir, 'ARTIFACTS.sha256'), 'utf8');
    expect(manifest).toContain('  outputs/evidence/build.log\n');
    expect(manifest).toContain('  outputs/signatures/artifact.sig\n');

    const sum = spawnSync('sha256sum', ['-c', 'ARTIFACTS.sha256'], { cwd: dir, encoding: 'utf8' });
    expect(sum.status, `${sum.stdout}${sum.stderr}`).toBe(0);

    const bundle = vm(['verify-bundle', join(dir, 'PROOF.json')], { data });
    const verifyScroll = vm(['verify', 'remembrancer'], { data });
    expect(bundle.status, bundle.stderr).toBe(0);
    expect(verifyScroll.status, verifyScroll.stderr).toBe(0);

    const receipts = readReceipts(join(data, SCROLL_FILE));
    expect(receipts).toHaveLength(1);
    const receipt = receipts[0] as unknown as Receipt;
    expect(receipt).toMatchObject({ seq: 0, type: 'remembrancer_deployment' });
    expect(receipt.tags).toEqual(['deployment', 'api']);
    expect(receipt.body).toMatchObject({
      deployment_id: 'api@1.0.0',
      component: 'api',
      version: '1.0.0',
      artifact_sha256: sha256Of(artifactBytes),
      artifact_name: 'app.tar',
      chain_ref: 'git:4f2a9c1',
      status: 'completed',
      evidence: {
        name: 'build.log',
        path: 'cases/remembrancer/api@1.0.0/outputs/evidence/build.log',
        sha256: sha256Of(evidenceText),
        bytes: Buffer.byteLength(evidenceText),
      },
      proof_path: 'cases/remembrancer/api@1.0.0/PROOF.json',
      artifacts_manifest: 'cases/remembrancer/api@1.0.0/ARTIFACTS.sha256',
    });
    const signatures = receipt.body.signatures as Array<Record<string, unknown>>;
    expect(signatures).toHaveLength(1);
    expect(signatures[0]).toEqual({
      alg: 'ed25519',
      key: vkey,
      path: 'cases/remembrancer/api@1.0.0/outputs/signatures/artifact.sig',
    });
    expect(out.receipt.body).toEqual(receipt.body);
  });

  it('records the same artifact again as already recorded, and refuses another artifact (DEPLOYMENT_CONFLICT)', () => {
    const scroll = join(data, SCROLL_FILE);
    const again = parsed<RecordOutput>(
      remembrancer(
        [
          'record',
          '--component',
          'api',
          '--version',
          '1.0.0',
          '--artifact',
          'app.tar',
          '--evidence',
          'build.log',
        ],
        opts,
      ),
    );
    expect(again.already).toBe(true);
    expect(again.receipt.seq).toBe(0);
    const lines = readReceipts(scroll).filter(
      (r) => (r.body as Receipt['body']).deployment_id === 'api@1.0.0',
    );
    expect(lines).toHaveLength(1);

    const before = readFileSync(scroll);
    const conflict = remembrancer(
      [
        'record',
        '--component',
        'api',
        '--version',
        '1.0.0',
        '--artifact',
        'build.log',
        '--evidence',
        'build.log',
      ],
      opts,
    );
    expect(conflict.status).toBe(2);
    expect(conflict.stdout).toBe('');
    const error = jsonError(conflict);
    expect(error.code).toBe('DEPLOYMENT_CONFLICT');
    expect(error.evidence).toMatchObject({
      recorded: sha256Of(artifactBytes),
      given: sha256Of(evidenceText),
    });
    expect(readFileSync(scroll).equals(before)).toBe(true);
  });

  it('verifies the recorded artifact: every check ok or skipped; --full-chain adds history and anchor', async () => {
    const [plain, full] = await vmAll(
      [
        ['--format', 'json', 'remembrancer', 'verify', 'app.tar'],
        ['--format', 'json', 'remembrancer', 'verify', 'app.tar', '--full-chain'],
      ],
      opts,
    );
    const out = parsed<VerifyOutput>(plain!);
    expect(out.ok).toBe(true);
    expect(out.sha256).toBe(sha256Of(artifactBytes));
    const { verdict, byName } = verdictOf(out);
    expect(verdict).toMatchObject({ deployment: 'api@1.0.0', seq: 0, ok: true });
    for (const c of verdict.checks) expect(['ok', 'skipped'], `${c.check}: ${c.detail}`).toContain(c.status);
    for (const check of ['artifact', 'case', 'signature:ed25519', 'proof', 'scroll']) {
      expect(statusOf(byName, check), check).toBe('ok');
    }
    expect(statusOf(byName, 'signature:openpgp')).toBe('skipped');
    expect(byName.has('history')).toBe(false);

    const chained = verdictOf(parsed<VerifyOutput>(full!));
    expect(chained.verdict.ok).toBe(true);
    expect(statusOf(chained.byName, 'history')).toBe('ok');
    expect(statusOf(chained.byName, 'anchor')).toBe('skipped');
    for (const c of chained.verdict.checks) expect(['ok', 'skipped']).toContain(c.status);
  });

  it('a changed artifact is NOT_RECORDED, and against its record (--deployment) fails artifact and signature', () => {
    const changedDir = join(work, 'changed');
    mkdirSync(changedDir, { recursive: true });
    writeFileSync(join(changedDir, 'app.tar'), `${artifactBytes}backdoor\n`);

    const unknown = remembrancer(['verify', 'changed/app.tar'], opts);
    expect(unknown.status).toBe(3);
    expect(jsonError(unknown).code).toBe('NOT_RECORDED');

    const against = parsed<VerifyOutput>(
      remembrancer(['verify', 'changed/app.tar', '--deployment', 'api@1.0.0'], opts),
      4,
    );
    expect(against.ok).toBe(false);
    const { verdict, byName } = verdictOf(against);
    expect(verdict).toMatchObject({ deployment: 'api@1.0.0', ok: false });
    expect(byName.get('artifact')).toMatchObject({ status: 'fail' });
    expect(byName.get('artifact')!.detail).toMatch(/^ARTIFACT_MISMATCH: /);
    expect(statusOf(byName, 'signature:ed25519')).toBe('fail');
    // The record itself is intact.
    for (const check of ['case', 'proof', 'scroll']) expect(statusOf(byName, check), check).toBe('ok');
  });

  it('a signature by another key fails signature:ed25519 (UNKNOWN_SIGNER) and case', () => {
    writeFileSync(join(work, 'signed.bin'), 'signed build 3.1.4\n');
    parsed<RecordOutput>(
      remembrancer(
        [
          'record',
          '--component',
          'signed',
          '--version',
          '3.1.4',
          '--artifact',
          'signed.bin',
          '--evidence',
          'build.log',
        ],
        opts,
      ),
    );
    const sigFile = join(caseDirOf(data, 'signed@3.1.4'), 'outputs/signatures/artifact.sig');
    const original = readFileSync(sigFile, 'utf8');
    const text = original.slice(0, original.indexOf('\n\n') + 1);
    expect(text).toBe(`vaultmesh.artifact@v1\nsigned\n3.1.4\n${sha256Of('signed build 3.1.4\n')}\n`);
    // An impostor key under the node's own name: same statement, another signer.
    const name = original.slice(original.indexOf('\n\n') + 2).split(' ')[1]!;
    const impostor = note.generateNoteKey(name);
    const forged = note.signNote(text, [note.parseSignerKey(impostor.skey)]);
    expect(forged).not.toBe(original);
    writeFileSync(sigFile, forged);

    const out = parsed<VerifyOutput>(remembrancer(['verify', 'signed.bin'], opts), 4);
    expect(out.ok).toBe(false);
    const { byName } = verdictOf(out);
    expect(byName.get('signature:ed25519')).toMatchObject({ status: 'fail' });
    expect(byName.get('signature:ed25519')!.detail).toMatch(/^UNKNOWN_SIGNER: /);
    expect(byName.get('case')).toMatchObject({ status: 'fail' });
    expect(byName.get('case')!.detail).toContain('outputs/signatures/artifact.sig changed');
    for (const check of ['artifact', 'proof', 'scroll']) expect(statusOf(byName, check), check).toBe('ok');
  });

  describe('with an OpenPGP key', () => {
    let signer: { privateKey: string; publicKey: string };
    let other: { privateKey: string; publicKey: string };
    let locked: { privateKey: string; publicKey: string };
    const passphrase = 'correct horse battery staple';
    const toolBytes = 'tool 0.9.0 release tarball\n';

    beforeAll(async () => {
      const userIDs = [{ name: 'Release', email: 'release@example.org' }];
      [signer, other, locked] = await Promise.all([
        openpgp.generateKey({ type: 'curve25519', userIDs, format: 'armored' }),
        openpgp.generateKey({ type: 'curve25519', userIDs, format: 'armored' }),
        openpgp.generateKey({ type: 'curve25519', userIDs, passphrase, format: 'armored' }),
      ]);
      writeFileSync(join(work, 'release.key'), signer.privateKey);
      writeFileSync(join(work, 'pub.asc'), signer.publicKey);
      writeFileSync(join(work, 'other.pub.asc'), other.publicKey);
      writeFileSync(join(work, 'locked.key'), locked.privateKey);
      writeFileSync(join(work, 'locked.pub.asc'), locked.publicKey);
      writeFileSync(join(work, 'tool.tgz'), toolBytes);
    });

    it('signs the artifact bytes (artifact.asc) and verify checks it with the public key given', async () => {
      const out = parsed<RecordOutput>(
        remembrancer(
          [
            'record',
            '--component',
            'tool',
            '--version',
            '0.9.0',
            '--artifact',
            'tool.tgz',
            '--evidence',
            'build.log',
            '--pgp-key',
            'release.key',
          ],
          opts,
        ),
      );
      const publicKey = await openpgp.readKey({ armoredKey: signer.publicKey });
      const fingerprint = publicKey.getFingerprint().toUpperCase();
      expect(out.receipt.body.signatures).toEqual([
        { alg: 'ed25519', key: vkey, path: 'cases/remembrancer/tool@0.9.0/outputs/signatures/artifact.sig' },
        {
          alg: 'openpgp',
          key: fingerprint,
          path: 'cases/remembrancer/tool@0.9.0/outputs/signatures/artifact.asc',
        },
      ]);

      // The detached signature verifies over the artifact bytes, independently of VaultMesh.
      const asc = readFileSync(join(out.caseDir, 'outputs/signatures/artifact.asc'), 'utf8');
      expect(asc).toContain('-----BEGIN PGP SIGNATURE-----');
      const checked = await openpgp.verify({
        message: await openpgp.createMessage({ binary: readFileSync(join(work, 'tool.tgz')) }),
        signature: await openpgp.readSignature({ armoredSignature: asc }),
        verificationKeys: publicKey,
        expectSigned: true,
      });
      expect(checked.signatures).toHaveLength(1);
      expect(await checked.signatures[0]!.verified).toBe(true);
      expect(checked.signatures[0]!.keyID.equals(publicKey.getKeyID())).toBe(true);

      const [good, wrong, none] = await vmAll(
        [
          ['--format', 'json', 'remembrancer', 'verify', 'tool.tgz', '--pgp-public-key', 'pub.asc'],
          ['--format', 'json', 'remembrancer', 'verify', 'tool.tgz', '--pgp-public-key', 'other.pub.asc'],
          ['--format', 'json', 'remembrancer', 'verify', 'tool.tgz'],
        ],
        opts,
      );
      const ok = verdictOf(parsed<VerifyOutput>(good!));
      expect(ok.verdict.ok).toBe(true);
      expect(ok.byName.get('signature:openpgp')).toMatchObject({ status: 'ok' });
      expect(ok.byName.get('signature:openpgp')!.detail).toContain(fingerprint);
      expect(statusOf(ok.byName, 'signature:ed25519')).toBe('ok');

      const bad = verdictOf(parsed<VerifyOutput>(wrong!, 4));
      expect(bad.verdict.ok).toBe(false);
      expect(bad.byName.get('signature:openpgp')).toMatchObject({ status: 'fail' });
      expect(bad.byName.get('signature:openpgp')!.detail).toMatch(/^SIGNATURE_INVALID: /);
      for (const check of ['artifact', 'case', 'signature:ed25519', 'proof', 'scroll']) {
        expect(statusOf(bad.byName, check), check).toBe('ok');
      }

      const skipped = verdictOf(parsed<VerifyOutput>(none!));
      expect(skipped.verdict.ok).toBe(true);
      expect(skipped.byName.get('signature:openpgp')).toMatchObject({ status: 'skipped' });
      expect(skipped.byName.get('signature:openpgp')!.detail).toContain(fingerprint);
    });

    it('a passphrase-protected key needs --pgp-passphrase-env (INVALID_KEY without it)', () => {
      const scroll = join(data, SCROLL_FILE);
      const before = sha256File(scroll);
      const args = [
        'record',
        '--component',
        'locked',
        '--version',
        '1.0.0',
        '--artifact',
        'tool.tgz',
        '--evidence',
        'build.log',
        '--pgp-key',
        'locked.key',
      ];
      const refused = remembrancer(args, opts);
      expect(refused.status).toBe(2);
      expect(jsonError(refused).code).toBe('INVALID_KEY');
      expect(sha256File(scroll)).toBe(before);
      expect(existsSync(caseDirOf(data, 'locked@1.0.0'))).toBe(false);

      const unset = remembrancer([...args, '--pgp-passphrase-env', 'PGP_PASS_NOT_SET'], opts);
      expect(unset.status).toBe(2);
      expect(jsonError(unset)).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(jsonError(unset).message).toContain('PGP_PASS_NOT_SET');

      const out = parsed<RecordOutput>(
        remembrancer([...args, '--pgp-passphrase-env', 'PGP_PASS'], {
          ...opts,
          env: { PGP_PASS: passphrase },
        }),
      );
      expect(out.already).toBe(false);
      const signatures = out.receipt.body.signatures as Array<{ alg: string }>;
      expect(signatures.map((s) => s.alg)).toEqual(['ed25519', 'openpgp']);

      const verified = verdictOf(
        parsed<VerifyOutput>(
          remembrancer(
            ['verify', 'tool.tgz', '--deployment', 'locked@1.0.0', '--pgp-public-key', 'locked.pub.asc'],
            opts,
          ),
        ),
      );
      expect(verified.verdict.ok).toBe(true);
      expect(statusOf(verified.byName, 'signature:openpgp')).toBe('ok');
    });
  });

  /** Tampering with a case, and files that are not there: each is a failed check or a named error. */
  describe('doctored cases and missing files', () => {
    let rewritten: VmResult;
    let unsigned: VmResult;
    let missingKey: VmResult;

    beforeAll(() => {
      const record = (component: string, artifact: string): string => {
        writeFileSync(join(work, artifact), `${component} build\n`);
        const out = parsed<RecordOutput>(
          remembrancer(
            [
              'record',
              '--component',
              component,
              '--version',
              '1.0.0',
              '--artifact',
              artifact,
              '--evidence',
              'build.log',
            ],
            opts,
          ),
        );
        return out.caseDir;
      };
      // Evidence replaced and ARTIFACTS.sha256 regenerated to match: the receipt still pins the
      // old manifest (root_hash) and the old evidence.sha256.
      const doctored = record('doctored', 'doctored.bin');
      writeFileSync(join(doctored, 'outputs/evidence/build.log'), 'ci: 3 tests FAILED\n');
      const manifest = readFileSync(join(doctored, 'ARTIFACTS.sha256'), 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => {
          const path = line.slice(66);
          return `${sha256Of(readFileSync(join(doctored, path))).slice('sha256:'.length)}  ${path}\n`;
        })
        .join('');
      writeFileSync(join(doctored, 'ARTIFACTS.sha256'), manifest);
      rewritten = remembrancer(['verify', 'doctored.bin'], opts);
      // The signed note deleted from the case.
      const stripped = record('stripped', 'stripped.bin');
      rmSync(join(stripped, 'outputs/signatures/artifact.sig'));
      unsigned = remembrancer(['verify', 'stripped.bin'], opts);
      missingKey = remembrancer(
        [
          'record',
          '--component',
          'keyless',
          '--version',
          '1.0.0',
          '--artifact',
          'app.tar',
          '--evidence',
          'build.log',
          '--pgp-key',
          'no-such-key.asc',
        ],
        opts,
      );
    });

    it('verify: evidence replaced with a regenerated ARTIFACTS.sha256 fails the case check', () => {
      const out = parsed<VerifyOutput>(rewritten, 4);
      expect(statusOf(verdictOf(out).byName, 'case')).toBe('fail');
    });

    it('verify: a deleted artifact.sig is a failed check, not an INTERNAL error', () => {
      const out = parsed<VerifyOutput>(unsigned, 4);
      const { byName } = verdictOf(out);
      expect(statusOf(byName, 'signature:ed25519')).toBe('fail');
      expect(statusOf(byName, 'case')).toBe('fail');
    });

    it('record: a missing --pgp-key file is FILE_MISSING (exit 3), not INTERNAL', () => {
      expect(missingKey.status).toBe(3);
      expect(jsonError(missingKey).code).toBe('FILE_MISSING');
      expect(jsonError(missingKey).message).toContain('--pgp-key');
    });

    it('verify: a missing --pgp-public-key file is FILE_MISSING naming the flag', () => {
      const missing = remembrancer(['verify', 'app.tar', '--pgp-public-key', 'no-such.pub'], opts);
      expect(missing.status).toBe(3);
      expect(jsonError(missing).message).toContain('--pgp-public-key');
    });

    it('two records of the same version at once: one receipt, the other finds it', async () => {
      writeFileSync(join(work, 'twin.bin'), 'twin build\n');
      const args = ['remembrancer', 'record', '--component', 'twin', '--version', '1.0.0'];
      const both = await vmAll(
        [0, 1].map(() => ['--format', 'json', ...args, '--artifact', 'twin.bin', '--evidence', 'build.log']),
        opts,
        2,
      );
      expect(both.map((r) => r.status)).toEqual([0, 0]);
      const outputs = both.map((r) => JSON.parse(r.stdout) as RecordOutput);
      expect(outputs.map((o) => o.already).sort()).toEqual([false, true]);
      const twins = readReceipts(join(data, SCROLL_FILE)).filter(
        (r) => (r.body as { component: string }).component === 'twin',
      );
      expect(twins).toHaveLength(1);
    });

    it('a failed record leaves no run behind', () => {
      const runs = join(data, 'runs/remembrancer');
      const open = () => (existsSync(runs) ? readdirSync(runs).filter((n) => !n.startsWith('.')) : []);
      expect(open()).toEqual([]);
    });
  });

  describe('bad input is refused and nothing is recorded', () => {
    const digest = 'ab'.repeat(32);
    const cases: Array<{
      what: string;
      component: string;
      args: string[];
      status: number;
      code: string;
      message: RegExp;
    }> = [
      {
        what: '--sha256 that is not hex',
        component: 'bad-digest',
        args: ['--sha256', 'z'.repeat(64), '--evidence', 'build.log'],
        status: 2,
        code: 'INVALID_ARGUMENT',
        message: /^--sha256: /,
      },
      {
        what: '--component with a slash',
        component: 'web/api',
        args: ['--sha256', digest, '--evidence', 'build.log'],
        status: 2,
        code: 'INVALID_ARGUMENT',
        message: /^--component: /,
      },
      {
        what: '--component ..',
        component: '..',
        args: ['--sha256', digest, '--evidence', 'build.log'],
        status: 2,
        code: 'INVALID_ARGUMENT',
        message: /^--component: /,
      },
      {
        // FILE_MISSING is a "not found" error: exit 3 (README, docs/operations.md).
        what: 'a missing --evidence file',
        component: 'no-evidence',
        args: ['--sha256', digest, '--evidence', 'no-such-log.txt'],
        status: 3,
        code: 'FILE_MISSING',
        message: /no-such-log\.txt/,
      },
      {
        what: 'neither --sha256 nor --artifact',
        component: 'no-digest',
        args: ['--evidence', 'build.log'],
        status: 2,
        code: 'INVALID_ARGUMENT',
        message: /--sha256/,
      },
      {
        what: '--artifact that does not hash to --sha256',
        component: 'mismatch',
        args: ['--sha256', digest, '--artifact', 'app.tar', '--evidence', 'build.log'],
        status: 4,
        code: 'ARTIFACT_MISMATCH',
        message: /does not hash to --sha256/,
      },
      {
        what: '--pgp-key without --artifact',
        component: 'pgp-no-artifact',
        args: ['--sha256', digest, '--evidence', 'build.log', '--pgp-key', 'build.log'],
        status: 2,
        code: 'INVALID_ARGUMENT',
        message: /--pgp-key needs --artifact/,
      },
    ];

    it.each(cases)('$what: $code, exit $status', ({ component, args, status, code, message }) => {
      const scroll = join(data, SCROLL_FILE);
      const before = sha256File(scroll);
      const result = remembrancer(['record', '--component', component, '--version', '1.0.0', ...args], opts);
      expect(result.status, result.stderr).toBe(status);
      expect(result.stdout).toBe('');
      const error = jsonError(result);
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
      expect(error.hint).toBeTruthy();
      expect(sha256File(scroll)).toBe(before);
      expect(existsSync(caseDirOf(data, `${component}@1.0.0`))).toBe(false);
    });
  });
});

describe('a deployment whose receipt is gone from the scroll', () => {
  const data = join(tmp.dir, 'data-truncated');
  const work = join(tmp.dir, 'work-truncated');

  beforeAll(() => {
    mkdirSync(work, { recursive: true });
    initNode(data);
    writeFileSync(join(work, 'svc.bin'), 'svc 5.0.0\n');
    writeFileSync(join(work, 'build.log'), 'ok\n');
  });

  it('fails the scroll check (RECEIPT_MISSING) while the case proof still holds', () => {
    const opts = { data, cwd: work };
    parsed<RecordOutput>(
      remembrancer(
        [
          'record',
          '--component',
          'svc',
          '--version',
          '5.0.0',
          '--artifact',
          'svc.bin',
          '--evidence',
          'build.log',
        ],
        opts,
      ),
    );
    writeFileSync(join(data, SCROLL_FILE), '');
    const reindex = vm(['reindex', 'remembrancer'], { data });
    expect(reindex.status, reindex.stderr).toBe(0);

    const out = parsed<VerifyOutput>(remembrancer(['verify', 'svc.bin'], opts), 4);
    expect(out.ok).toBe(false);
    const { verdict, byName } = verdictOf(out);
    expect(verdict).toMatchObject({ deployment: 'svc@5.0.0', seq: 0, ok: false });
    expect(byName.get('scroll')).toMatchObject({ status: 'fail' });
    expect(byName.get('scroll')!.detail).toMatch(/^RECEIPT_MISSING: /);
    expect(statusOf(byName, 'proof')).toBe('ok');
    for (const check of ['artifact', 'case', 'signature:ed25519'])
      expect(statusOf(byName, check), check).toBe('ok');
  });
});

describe('query and list', () => {
  const data = join(tmp.dir, 'data-query');
  const work = join(tmp.dir, 'work-query');
  const opts = { data, cwd: work };
  const ids = (receipts: Receipt[]): string[] => receipts.map((r) => String(r.body.deployment_id)).sort();

  beforeAll(() => {
    mkdirSync(work, { recursive: true });
    initNode(data);
    writeFileSync(join(work, 'build.log'), 'ok\n');
    for (const [component, version, byte] of [
      ['api', '1.0.0', 'a1'],
      ['api', '1.1.0', 'a2'],
      ['worker', '2.0.0', 'b1'],
    ] as const) {
      const result = remembrancer(
        [
          'record',
          '--component',
          component,
          '--version',
          version,
          '--sha256',
          byte.repeat(32),
          '--evidence',
          'build.log',
          '--unsigned',
        ],
        opts,
      );
      if (result.status !== 0) throw new Error(`record ${component}@${version}: ${result.stderr}`);
    }
  });

  it('query by pattern, version, tag and time; list components, versions and deployments', async () => {
    const q = (...args: string[]): string[] => ['--format', 'json', 'remembrancer', ...args];
    const [glob, worker, version, tag, limited, before, components, versions, deployments] = await vmAll(
      [
        q('query', 'ap*'),
        q('query', 'worker'),
        q('query', '--version', '1.1.0'),
        q('query', '--tag', 'worker'),
        q('query', '--limit', '1'),
        q('query', '--to', '2000-01-01'),
        q('list', 'components'),
        q('list', 'versions', '--component', 'api'),
        q('list', 'deployments'),
      ],
      opts,
    );
    expect(ids(parsed<Receipt[]>(glob!))).toEqual(['api@1.0.0', 'api@1.1.0']);
    expect(ids(parsed<Receipt[]>(worker!))).toEqual(['worker@2.0.0']);
    expect(ids(parsed<Receipt[]>(version!))).toEqual(['api@1.1.0']);
    expect(ids(parsed<Receipt[]>(tag!))).toEqual(['worker@2.0.0']);
    expect(parsed<Receipt[]>(limited!)).toHaveLength(1);
    expect(parsed<Receipt[]>(before!)).toEqual([]);

    const listed = parsed<{ what: string; rows: Array<Record<string, unknown>> }>(components!);
    expect(listed.what).toBe('components');
    expect(listed.rows).toHaveLength(2);
    expect(listed.rows[0]).toMatchObject({ component: 'api', versions: 2, latest: '1.1.0' });
    expect(listed.rows[1]).toMatchObject({ component: 'worker', versions: 1, latest: '2.0.0' });

    const apiVersions = parsed<{ rows: Array<{ component: string; version: string }> }>(versions!).rows;
    expect(apiVersions.map((r) => `${r.component}@${r.version}`).sort()).toEqual(['api@1.0.0', 'api@1.1.0']);

    const all = parsed<{ rows: Array<{ component: string; artifact_sha256: string; seq: number }> }>(
      deployments!,
    ).rows;
    expect(all.map((r) => r.seq).sort()).toEqual([0, 1, 2]);
    expect(all.find((r) => r.component === 'worker')?.artifact_sha256).toBe(`sha256:${'b1'.repeat(32)}`);
  });
});

/**
 * `vm remembrancer verify <artifact>`: is this file what was recorded, and is the record intact?
 * Each deployment recorded for the artifact's hash (or the one named with --deployment) is checked:
 * the hash, the evidence and case files, the signatures, the receipt's proof and its presence in
 * the scroll today, and with --full-chain that the scroll still extends the checkpoint the proof
 * was made against.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseBundle, verifyBundle } from '../../core/bundle.js';
import { isVaultMeshError, VaultMeshError } from '../../core/errors.js';
import { verifyConsistency } from '../../core/merkle.js';
import { checkCase, PROOF_FILE, readCaseFile } from '../../ledger/case-store.js';
import { sha256File } from '../../ledger/file-hash.js';
import { nodeTreeHasher } from '../../ledger/node-hasher.js';
import { readUserFile, userFile } from '../framework/user-files.js';
import { coveringAnchor, verifyAnchor } from '../guardian/anchors.js';
import { configuredBackends, guardianConfig } from '../guardian/config.js';
import { defineOperation, type Engine, type EngineContext } from '../framework/engine.js';
import { SIGNATURE_FILES } from './contract.js';
import { pgpVerify, verifyStatement } from './signing.js';

export type CheckStatus = 'ok' | 'fail' | 'skipped';
export interface VerifyCheck {
  check: string;
  status: CheckStatus;
  detail: string;
}
export interface DeploymentVerdict {
  deployment: string;
  seq: number | null;
  ok: boolean;
  checks: VerifyCheck[];
}

export const verifyInput = z.object({
  artifact: z.string().min(1),
  deployment: z.string().min(1).optional(),
  fullChain: z.boolean().default(false),
  pgpPublicKey: z.string().min(1).optional(),
});

interface RecordedCase {
  id: string;
  dir: string;
  bundle: string;
  receipt: { seq: number; body: Record<string, unknown> };
}

/** Every sealed case, read from its PROOF.json: the record survives even if its scroll line does not. */
function recordedCases(context: EngineContext, engine: Engine): RecordedCase[] {
  const root = context.ledger.dataDir.casesDir(engine.id);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((id) => !id.startsWith('.') && existsSync(join(root, id, PROOF_FILE)))
    .map((id) => {
      const bundle = readFileSync(join(root, id, PROOF_FILE), 'utf8');
      const receipt = JSON.parse(parseBundle(bundle).receipt) as RecordedCase['receipt'];
      return { id, dir: join(root, id), bundle, receipt };
    });
}

async function judge(
  checks: VerifyCheck[],
  check: string,
  work: () => Promise<string> | string,
): Promise<void> {
  try {
    checks.push({ check, status: 'ok', detail: await work() });
  } catch (error) {
    if (!isVaultMeshError(error)) throw error;
    checks.push({ check, status: 'fail', detail: `${error.code}: ${error.message}` });
  }
}

async function verifyCase(
  context: EngineContext,
  engine: Engine,
  record: RecordedCase,
  artifact: { path: string; bytes: () => Uint8Array; sha256: string },
  fullChain: boolean,
  pgpPublicKey: string | undefined,
): Promise<DeploymentVerdict> {
  const checks: VerifyCheck[] = [];
  const body = record.receipt.body;
  const ledger = context.ledger;
  await judge(checks, 'artifact', () => {
    if (body.artifact_sha256 !== artifact.sha256) {
      throw new VaultMeshError(
        'ARTIFACT_MISMATCH',
        `the file hashes to ${artifact.sha256}, the record pins ${String(body.artifact_sha256)}`,
      );
    }
    return `hashes to the recorded ${artifact.sha256}`;
  });
  await judge(checks, 'case', () => {
    const { problems, manifestHash } = checkCase(record.dir);
    if (problems.length > 0) {
      throw new VaultMeshError(
        'ARTIFACT_MISMATCH',
        `case files changed: ${problems.map((p) => `${p.path} ${p.problem}`).join(', ')}`,
      );
    }
    // The manifest itself is pinned by the receipt: a file swapped together with its manifest line
    // changes the manifest's hash.
    if (manifestHash !== body.root_hash) {
      throw new VaultMeshError(
        'ARTIFACT_MISMATCH',
        `ARTIFACTS.sha256 hashes to ${manifestHash}, the receipt pins ${String(body.root_hash)}`,
      );
    }
    return 'every case file matches ARTIFACTS.sha256, whose hash the receipt pins';
  });
  const signers = (body.signatures as Array<{ alg: string; path: string; key: string }>) ?? [];
  for (const alg of ['ed25519', 'openpgp'] as const) {
    const signer = signers.find((s) => s.alg === alg);
    const file = `outputs/signatures/${SIGNATURE_FILES[alg]}`;
    if (signer === undefined) {
      checks.push({
        check: `signature:${alg}`,
        status: 'skipped',
        detail: 'not signed with this kind of key',
      });
      continue;
    }
    if (alg === 'openpgp' && pgpPublicKey === undefined) {
      checks.push({
        check: 'signature:openpgp',
        status: 'skipped',
        detail: `signed by ${signer.key}; pass --pgp-public-key to check it`,
      });
      continue;
    }
    await judge(checks, `signature:${alg}`, async () => {
      if (alg === 'ed25519') {
        verifyStatement(
          readCaseFile(record.dir, file),
          { component: String(body.component), version: String(body.version), sha256: artifact.sha256 },
          ledger.identity.verifier,
        );
        return `signed note by ${ledger.identity.verifier.name} names this artifact`;
      }
      const fingerprint = await pgpVerify(artifact.bytes(), readCaseFile(record.dir, file), pgpPublicKey!);
      return `OpenPGP signature by ${fingerprint} verifies over the artifact bytes`;
    });
  }
  await judge(checks, 'proof', () => {
    const verified = verifyBundle(record.bundle, [ledger.identity.verifier], nodeTreeHasher);
    return `receipt seq ${verified.receipt.seq} is in the signed checkpoint of ${verified.checkpoint.size}`;
  });
  await judge(checks, 'scroll', () => {
    const log = ledger.reader(engine.scroll.name);
    try {
      const line = record.receipt.seq < log.size ? log.readLine(record.receipt.seq) : undefined;
      if (line !== parseBundle(record.bundle).receipt) {
        throw new VaultMeshError(
          'RECEIPT_MISSING',
          `the receipt of ${record.id} (seq ${record.receipt.seq}) is not in the ${engine.scroll.name} scroll`,
          {
            hint: 'the scroll was truncated or rewritten; run vm verify and compare with a backup or anchor',
          },
        );
      }
      return `line ${record.receipt.seq} of ${engine.scroll.file} is this receipt`;
    } finally {
      log.close();
    }
  });
  if (fullChain) {
    await judge(checks, 'history', async () => {
      const bundleSize = verifyBundle(record.bundle, [ledger.identity.verifier], nodeTreeHasher).checkpoint;
      const log = ledger.reader(engine.scroll.name);
      const current = (() => {
        try {
          return ledger.checkpoint(log);
        } finally {
          log.close();
        }
      })();
      if (current === undefined)
        throw new VaultMeshError(
          'RECEIPT_MISSING',
          `the ${engine.scroll.name} scroll has no signed checkpoint`,
        );
      const proof = ledger.consistency(engine.scroll.name, bundleSize.size, current.checkpoint.size);
      verifyConsistency(
        bundleSize.size,
        current.checkpoint.size,
        bundleSize.rootHash,
        current.checkpoint.rootHash,
        proof.proof,
        nodeTreeHasher,
      );
      return `the signed checkpoint of ${current.checkpoint.size} extends the proof's checkpoint of ${bundleSize.size}`;
    });
    const anchor = coveringAnchor(ledger, engine.scroll.name, record.receipt.seq);
    if (anchor === undefined) {
      checks.push({
        check: 'anchor',
        status: 'skipped',
        detail: `no anchor covers seq ${record.receipt.seq} yet (vm guardian anchor-now); the chain ends at the signed checkpoint`,
      });
    } else {
      await judge(checks, 'anchor', async () => {
        const config = guardianConfig(ledger);
        const verified = await verifyAnchor(
          ledger,
          config,
          configuredBackends(ledger, config, () => new Date()),
          anchor.id,
        );
        const failed = verified.checks.find((c) => !c.ok);
        if (failed !== undefined) {
          throw new VaultMeshError(
            'BUNDLE_INVALID',
            `anchor ${anchor.id}: ${failed.check}: ${failed.detail}`,
          );
        }
        const backends = verified.checks.filter((c) => c.check.startsWith('backend:')).map((c) => c.detail);
        return `anchor ${anchor.id} covers seq ${record.receipt.seq}: ${backends.join('; ')}`;
      });
    }
  }
  return {
    deployment: record.id,
    seq: record.receipt.seq,
    ok: checks.every((c) => c.status !== 'fail'),
    checks,
  };
}

export function verifyOperation(engine: Engine) {
  return defineOperation({
    name: 'verify',
    summary: 'check an artifact against its deployment record: hash, evidence, signatures, proof',
    access: 'read',
    local: true,
    input: verifyInput,
    cli: {
      arguments: [{ field: 'artifact', name: 'artifact', description: 'the artifact file' }],
      options: [
        {
          field: 'deployment',
          flags: '--deployment <component@version>',
          description: 'check against this record',
        },
        {
          field: 'fullChain',
          flags: '--full-chain',
          description: 'also prove the scroll still extends the proof',
        },
        {
          field: 'pgpPublicKey',
          flags: '--pgp-public-key <file>',
          description: 'armored OpenPGP key to check with',
        },
      ],
    },
    async run(context, input) {
      const path = userFile(context, input.artifact, '<artifact>', 'pass the path of the deployed file');
      const pgpPublicKey =
        input.pgpPublicKey === undefined
          ? undefined
          : readUserFile(
              context,
              input.pgpPublicKey,
              '--pgp-public-key',
              'pass an ASCII-armored public key (gpg --export --armor KEYID > key.pub.asc)',
            ).toString('utf8');
      const sha256 = sha256File(path).sha256;
      const artifact = { path, sha256, bytes: () => readFileSync(path) };
      const cases = recordedCases(context, engine);
      const candidates =
        input.deployment !== undefined
          ? cases.filter((c) => c.id === input.deployment)
          : cases.filter((c) => c.receipt.body.artifact_sha256 === sha256);
      const inScroll = context.ledger.query(engine.scroll.name, {
        where: [{ path: 'artifact_sha256', value: sha256, text: sha256 }],
        limit: 1000,
      });
      if (candidates.length === 0) {
        throw new VaultMeshError(
          'NOT_RECORDED',
          input.deployment !== undefined
            ? `no deployment ${input.deployment} is recorded`
            : `no deployment records an artifact with ${sha256}${inScroll.length > 0 ? ' (the scroll has one, but its case directory is gone)' : ''}`,
          {
            hint: 'a changed file has another hash: name the expected record with --deployment to see the difference',
          },
        );
      }
      const verdicts = [];
      for (const record of candidates)
        verdicts.push(await verifyCase(context, engine, record, artifact, input.fullChain, pgpPublicKey));
      return { ok: verdicts.every((v) => v.ok), sha256, deployments: verdicts };
    },
    human: (r) =>
      [
        `${r.ok ? 'ok' : 'FAIL'}: ${r.sha256}`,
        ...r.deployments.flatMap((d) => [
          `${d.ok ? 'ok  ' : 'FAIL'} ${d.deployment} (seq ${d.seq})`,
          ...d.checks.map((c) => `  ${c.status.padEnd(7)} ${c.check.padEnd(17)} ${c.detail}`),
        ]),
      ].join('\n'),
  });
}

/**
 * `vm remembrancer record`: plan, run and seal a deployment record in one step. The evidence file
 * and the signatures are the two stages' outputs, so they land in the case directory under the
 * manifest like any engine's outputs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { VaultMeshError } from '../../core/errors.js';
import type { Receipt } from '../../core/receipt.js';
import { sha256File } from '../../ledger/file-hash.js';
import { loadNodeSigner } from '../../ledger/node-identity.js';
import { defineOperation, type Engine, type EngineContext } from '../framework/engine.js';
import { completeRunStage, findSealed, initRun, runStore, sealRun } from '../framework/lifecycle.js';
import {
  SIGNATURE_FILES,
  artifactDigest,
  componentName,
  deploymentId,
  versionName,
  type DeploymentContract,
} from './contract.js';
import type { DeploymentIntent } from './plan.js';
import { pgpSign, signStatement } from './signing.js';
import { readUserFile, userFile } from '../framework/user-files.js';

type RemembrancerEngine = Engine<DeploymentContract, DeploymentIntent>;

export const recordInput = z.object({
  component: componentName,
  version: versionName,
  sha256: artifactDigest.optional(),
  evidence: z.string().min(1),
  chainRef: z.string().min(1).max(1024).optional(),
  artifact: z.string().min(1).optional(),
  unsigned: z.boolean().default(false),
  pgpKey: z.string().min(1).optional(),
  pgpPassphraseEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')
    .optional(),
});
type RecordInput = z.infer<typeof recordInput>;

function artifactHash(context: EngineContext, input: RecordInput): { sha256: string; name?: string } {
  if (input.artifact === undefined) {
    if (input.sha256 === undefined) {
      throw new VaultMeshError('INVALID_ARGUMENT', '--sha256: say which artifact is deployed', {
        hint: 'pass --sha256 <digest> (sha256sum output), or --artifact FILE to hash it here',
      });
    }
    return { sha256: input.sha256 };
  }
  const path = userFile(
    context,
    input.artifact,
    '--artifact',
    'pass the path of the artifact file that was deployed',
  );
  const digest = sha256File(path);
  if (input.sha256 !== undefined && input.sha256 !== digest.sha256) {
    throw new VaultMeshError('ARTIFACT_MISMATCH', `--artifact ${input.artifact} does not hash to --sha256`, {
      hint: 'the file is not the artifact you named; check which build was deployed',
      evidence: { expected: input.sha256, actual: digest.sha256 },
    });
  }
  return { sha256: digest.sha256, name: basename(path) };
}

async function writeSignatures(
  context: EngineContext,
  input: RecordInput,
  pgp: PgpSigner | undefined,
  contract: DeploymentContract,
  dir: string,
): Promise<string[]> {
  const files: string[] = [];
  if (!input.unsigned) {
    const note = signStatement(
      { component: contract.component, version: contract.version, sha256: contract.artifact_sha256 },
      loadNodeSigner(context.ledger.dataDir),
    );
    files.push(join(dir, SIGNATURE_FILES.ed25519));
    writeFileSync(files.at(-1)!, note);
  }
  if (pgp !== undefined) {
    const { signature } = await pgpSign(readFileSync(pgp.artifactPath), pgp.armoredKey, pgp.passphrase);
    files.push(join(dir, SIGNATURE_FILES.openpgp));
    writeFileSync(files.at(-1)!, signature);
  }
  return files;
}

export interface RecordOutcome {
  receipt: Receipt;
  caseDir: string;
  already: boolean;
}

interface PgpSigner {
  armoredKey: string;
  passphrase: string | undefined;
  fingerprint: string;
  artifactPath: string;
}

/** Everything OpenPGP signing needs, checked before anything is written. */
async function pgpSigner(context: EngineContext, input: RecordInput): Promise<PgpSigner | undefined> {
  if (input.pgpKey === undefined) return undefined;
  if (input.artifact === undefined) {
    throw new VaultMeshError('INVALID_ARGUMENT', '--pgp-key needs --artifact', {
      hint: 'an OpenPGP signature covers the artifact bytes: pass the file with --artifact',
    });
  }
  const passphrase = input.pgpPassphraseEnv === undefined ? undefined : process.env[input.pgpPassphraseEnv];
  if (input.pgpPassphraseEnv !== undefined && passphrase === undefined) {
    throw new VaultMeshError(
      'INVALID_ARGUMENT',
      `--pgp-passphrase-env: ${input.pgpPassphraseEnv} is not set`,
      {
        hint: `export ${input.pgpPassphraseEnv}=... before running the command`,
      },
    );
  }
  const armoredKey = readUserFile(
    context,
    input.pgpKey,
    '--pgp-key',
    'pass an ASCII-armored private key (gpg --export-secret-keys --armor KEYID > key.asc)',
  ).toString('utf8');
  const artifactPath = userFile(context, input.artifact, '--artifact', 'pass the deployed artifact file');
  // Signing a single byte proves the key and passphrase work before the run starts.
  const { fingerprint } = await pgpSign(new Uint8Array(1), armoredKey, passphrase);
  return { armoredKey, passphrase, fingerprint, artifactPath };
}

export function recordOperation(engine: RemembrancerEngine) {
  async function record(
    context: EngineContext,
    input: RecordInput,
    id: string,
    artifact: { sha256: string; name?: string },
  ): Promise<RecordOutcome> {
    const existing = findSealed(context, engine, id);
    if (existing !== undefined) {
      if (existing.body.artifact_sha256 !== artifact.sha256) {
        throw new VaultMeshError('DEPLOYMENT_CONFLICT', `${id} is already recorded with another artifact`, {
          hint: 'a version names one artifact forever; record the new build under a new version',
          evidence: { recorded: existing.body.artifact_sha256, given: artifact.sha256, seq: existing.seq },
        });
      }
      const sealed = await sealRun(context, engine, id);
      return { receipt: sealed.receipt, caseDir: sealed.caseDir, already: true };
    }
    userFile(context, input.evidence, '--evidence', 'pass the evidence file: a CI log, SBOM or test report');
    const pgp = await pgpSigner(context, input);
    const signers: DeploymentContract['signers'] = [
      ...(input.unsigned ? [] : [{ alg: 'ed25519' as const, key: context.ledger.identity.vkey }]),
      ...(pgp === undefined ? [] : [{ alg: 'openpgp' as const, key: pgp.fingerprint }]),
    ];
    const contract = engine.plan(
      {
        component: input.component,
        version: input.version,
        sha256: artifact.sha256,
        ...(artifact.name ? { artifactName: artifact.name } : {}),
        ...(input.chainRef ? { chainRef: input.chainRef } : {}),
        signers,
      },
      { now: context.clock() },
    );
    const runs = runStore(context, engine);
    // A record interrupted before sealing left its run behind; it is redone from the start.
    if (runs.has(id)) runs.remove(id);
    initRun(context, engine, contract, 'record');
    const scratch = mkdtempSync(join(tmpdir(), 'vaultmesh-signatures-'));
    try {
      await completeRunStage(context, engine, id, 'evidence', [input.evidence]);
      const files = await writeSignatures(context, input, pgp, contract, scratch);
      await completeRunStage(context, engine, id, 'signatures', files);
      const sealed = await sealRun(context, engine, id);
      return { receipt: sealed.receipt, caseDir: sealed.caseDir, already: false };
    } catch (error) {
      // One command is the whole run: a failed record leaves nothing half-done behind.
      runs.remove(id);
      throw error;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  return defineOperation({
    name: 'record',
    summary: 'record a deployment: pin the artifact hash, keep the evidence, sign, seal',
    access: 'write',
    local: true,
    input: recordInput,
    cli: {
      options: [
        {
          field: 'component',
          flags: '--component <name>',
          description: 'what was deployed, e.g. vaultmesh-api',
        },
        { field: 'version', flags: '--version <version>', description: 'its version' },
        {
          field: 'sha256',
          flags: '--sha256 <digest>',
          description: "the artifact's SHA-256 (sha256sum output)",
        },
        {
          field: 'evidence',
          flags: '--evidence <file>',
          description: 'evidence file (CI log, SBOM, test report)',
        },
        {
          field: 'chainRef',
          flags: '--chain-ref <ref>',
          description: 'reference: commit, ticket, transaction',
        },
        { field: 'artifact', flags: '--artifact <file>', description: 'the artifact itself (hashed here)' },
        { field: 'unsigned', flags: '--unsigned', description: 'do not sign with the node key' },
        {
          field: 'pgpKey',
          flags: '--pgp-key <file>',
          description: 'also sign with this armored OpenPGP key',
        },
        {
          field: 'pgpPassphraseEnv',
          flags: '--pgp-passphrase-env <var>',
          description: 'environment variable holding the key passphrase',
        },
      ],
    },
    async run(context, input): Promise<RecordOutcome> {
      const artifact = artifactHash(context, input);
      const id = deploymentId(input.component, input.version);
      // Two records of one version at once must not share (and remove) each other's run; the run's
      // own lock cannot serve, since the steps below take it themselves.
      return runStore(context, engine).locked(`${id}.record`, () => record(context, input, id, artifact));
    },
    human: (r) =>
      [
        `${r.already ? 'already recorded' : 'recorded'} ${String(r.receipt.body.deployment_id)}: remembrancer seq ${r.receipt.seq}`,
        `artifact: ${String(r.receipt.body.artifact_sha256)}`,
        `case:     ${r.caseDir}`,
      ].join('\n'),
  });
}

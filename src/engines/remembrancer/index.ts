/**
 * The Remembrancer: deployment memory (seed 003). Each record pins an artifact's SHA-256 to a
 * component version, keeps the evidence in `cases/remembrancer/<component>@<version>/`, signs the
 * artifact with the node key (a C2SP signed note) and optionally OpenPGP, and seals a
 * `remembrancer_deployment` receipt. Recording is plan, run and seal in one command.
 */
import { z } from 'zod';
import type { Receipt } from '../../core/receipt.js';
import { remembrancer as remembrancerScroll } from '../../core/scrolls/remembrancer.js';
import { table } from '../../core/table.js';
import { defineEngine, defineOperation, type Engine } from '../framework/engine.js';
import { queryOperation } from '../framework/operations.js';
import { SIGNATURE_FILES, deploymentContractSchema, type DeploymentContract } from './contract.js';
import { planDeployment, type DeploymentIntent } from './plan.js';
import { recordOperation } from './record.js';
import { verifyOperation } from './verify.js';

type RemembrancerEngine = Engine<DeploymentContract, DeploymentIntent>;

const LISTS = ['components', 'versions', 'deployments'] as const;

function listOperation(engine: RemembrancerEngine) {
  return defineOperation({
    name: 'list',
    summary: 'list what was deployed: components, versions or deployments',
    access: 'read',
    input: z.object({ what: z.enum(LISTS), component: z.string().min(1).optional() }),
    cli: {
      arguments: [{ field: 'what', name: 'what', description: LISTS.join(' | ') }],
      options: [{ field: 'component', flags: '--component <name>', description: 'only this component' }],
    },
    async run(context, input) {
      const receipts: Receipt[] = context.ledger.query(engine.scroll.name, {
        types: ['remembrancer_deployment'],
        ...(input.component === undefined
          ? {}
          : { where: [{ path: 'component', value: input.component, text: input.component }] }),
        limit: Number.MAX_SAFE_INTEGER,
      });
      const rows = receipts.map((r) => ({
        component: String(r.body.component),
        version: String(r.body.version),
        artifact_sha256: String(r.body.artifact_sha256),
        recorded_at: String(r.body.recorded_at),
        seq: r.seq,
      }));
      if (input.what === 'deployments') return { what: input.what, rows };
      if (input.what === 'versions')
        return {
          what: input.what,
          rows: rows.map(({ component, version, recorded_at }) => ({ component, version, recorded_at })),
        };
      const components = new Map<
        string,
        { component: string; versions: number; latest: string; recorded_at: string }
      >();
      for (const r of rows) {
        const known = components.get(r.component);
        components.set(r.component, {
          component: r.component,
          versions: (known?.versions ?? 0) + 1,
          latest: r.version,
          recorded_at: r.recorded_at,
        });
      }
      return {
        what: input.what,
        rows: [...components.values()].sort((a, b) => a.component.localeCompare(b.component)),
      };
    },
    human: (r: { what: string; rows: Array<Record<string, unknown>> }) => {
      if (r.rows.length === 0) return `no ${r.what} recorded`;
      const columns = Object.keys(r.rows[0]!);
      return table([
        columns.map((c) => c.toUpperCase()),
        ...r.rows.map((row) => columns.map((c) => String(row[c]))),
      ]);
    },
  });
}

export const remembrancerEngine: RemembrancerEngine = defineEngine<DeploymentContract, DeploymentIntent>(
  {
    id: 'remembrancer',
    title: 'Remembrancer',
    description: 'deployment memory: pin artifacts to component versions with evidence and signatures',
    scroll: remembrancerScroll,
    runNoun: 'deployment',
    contract: deploymentContractSchema,
    plan: planDeployment,
    seal(contract, state, facts) {
      const evidence = facts.artifacts.find((a) => a.path.startsWith('outputs/evidence/'));
      const signatureFile = (alg: 'ed25519' | 'openpgp') =>
        facts.artifacts.find((a) => a.path === `outputs/signatures/${SIGNATURE_FILES[alg]}`);
      return {
        type: 'remembrancer_deployment',
        body: {
          deployment_id: contract.id,
          component: contract.component,
          version: contract.version,
          artifact_sha256: contract.artifact_sha256,
          ...(contract.artifact_name === undefined ? {} : { artifact_name: contract.artifact_name }),
          evidence: {
            name: evidence?.path.slice('outputs/evidence/'.length) ?? '',
            path: evidence === undefined ? '' : `${facts.caseDir}/${evidence.path}`,
            sha256: evidence?.sha256 ?? '',
            bytes: evidence?.bytes ?? 0,
          },
          ...(contract.chain_ref === undefined ? {} : { chain_ref: contract.chain_ref }),
          signatures: contract.signers.flatMap((s) => {
            const file = signatureFile(s.alg);
            return file === undefined
              ? []
              : [{ alg: s.alg, key: s.key, path: `${facts.caseDir}/${file.path}` }];
          }),
          status: state.status === 'aborted' ? 'aborted' : 'completed',
          recorded_at: state.completed_at ?? state.updated_at,
          root_hash: facts.manifestHash,
          proof_path: facts.proofPath,
          artifacts_manifest: facts.artifactsManifest,
        },
        tags: ['deployment', contract.component],
      };
    },
    queryFilters: [
      { option: 'component', field: 'component', match: 'equals', description: 'only this component' },
      { option: 'version', field: 'version', match: 'equals', description: 'only this version' },
    ],
    searchFields: ['deployment_id', 'component', 'version', 'chain_ref', 'evidence.name', 'artifact_sha256'],
    example: {
      intent: {
        component: 'gate-service',
        version: '1.0.0',
        sha256: `sha256:${'ab'.repeat(32)}`,
        signers: [],
      },
      output: { name: 'build-log.txt', text: 'build ok\n' },
    },
  },
  (engine) => [
    recordOperation(engine),
    queryOperation(engine),
    listOperation(engine),
    verifyOperation(engine),
  ],
);

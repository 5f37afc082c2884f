/**
 * The design gate (seed 000 §6) as a check that runs: each engine is driven through its whole
 * lifecycle in a scratch data directory — plan, init, every stage, seal, query — and each item of
 * the checklist is judged on what actually happened on disk, not on what the engine declares.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { verifyBundle } from '../../core/bundle.js';
import { combinedInclusion } from '../../core/combined-root.js';
import { fromHex, toHex, utf8 } from '../../core/bytes.js';
import { isVaultMeshError } from '../../core/errors.js';
import { rootFromInclusionProof } from '../../core/merkle.js';
import { validateDraft, type Receipt } from '../../core/receipt.js';
import { parseRootFile } from '../../core/root-file.js';
import { SCROLLS } from '../../core/scrolls/index.js';
import { checkCase, MANIFEST_FILE, PROOF_FILE } from '../../ledger/case-store.js';
import { initDataDir } from '../../ledger/init.js';
import { Ledger } from '../../ledger/ledger.js';
import { nodeTreeHasher } from '../../ledger/node-hasher.js';
import { loadNodeSigner } from '../../ledger/node-identity.js';
import { verifyAnchor } from '../guardian/anchors.js';
import { createLocalBackend } from '../guardian/backends/local.js';
import { guardianConfigSchema } from '../guardian/config.js';
import { runAnchorCycle } from '../guardian/cycle.js';
import type { Engine, EngineContext } from './engine.js';
import { completeRunStage, initRun, readRun, runStore, sealRun, validateContract } from './lifecycle.js';

export const GATE_CHECKS = [
  'entrypoint',
  'contract',
  'state',
  'receipts',
  'append-only',
  'root',
  'anchor',
  'query',
] as const;
export type GateCheckName = (typeof GATE_CHECKS)[number];

export interface GateCheck {
  check: GateCheckName;
  ok: boolean;
  detail: string;
}

export interface GateReport {
  engine: string;
  ok: boolean;
  checks: GateCheck[];
}

class GateFailure extends Error {}

function require(condition: unknown, message: string): asserts condition {
  if (!condition) throw new GateFailure(message);
}

/** Runs the checklist for one engine in its own scratch data directory. */
export async function runGate(engine: Engine, clock: () => Date = () => new Date()): Promise<GateReport> {
  const scratch = mkdtempSync(join(tmpdir(), `vaultmesh-gate-${engine.id}-`));
  const checks: GateCheck[] = [];
  let ledger: Ledger | undefined;
  const judge = async (check: GateCheckName, work: () => string | Promise<string>): Promise<boolean> => {
    try {
      checks.push({ check, ok: true, detail: await work() });
      return true;
    } catch (error) {
      const message = error instanceof GateFailure || isVaultMeshError(error) ? error.message : String(error);
      checks.push({ check, ok: false, detail: message });
      return false;
    }
  };
  try {
    const dataDir = join(scratch, 'data');
    await initDataDir(dataDir, 'gate');
    ledger = Ledger.open(dataDir, { clock });
    const context: EngineContext = { ledger, clock, cwd: scratch };
    const id = `gate-${engine.id}`;
    let receipt: Receipt | undefined;
    let scrollBefore = '';

    await judge('entrypoint', () => checkEntrypoints(engine));
    const planned = await judge('contract', () => {
      const contract = validateContract(
        engine,
        engine.plan(engine.example.intent, { now: clock(), id }),
        'planned contract',
      );
      require(contract.id === id, `plan ignored the requested id (${contract.id})`);
      return `plan -> contract ${contract.id} with ${contract.stages.length} stage(s), valid against the schema`;
    });
    const ran =
      planned &&
      (await judge('state', async () => {
        initRun(
          context,
          engine,
          engine.plan(engine.example.intent, { now: clock(), id }),
          'planned contract',
        );
        const store = runStore(context, engine);
        const stateFile = join(store.dir(id), store.stateFileName);
        require(JSON.parse(readFileSync(stateFile, 'utf8'))[engine.runIdField] ===
          id, `${store.stateFileName} lacks ${engine.runIdField}`);
        const { contract } = readRun(context, engine, id);
        writeFileSync(join(scratch, engine.example.output.name), engine.example.output.text);
        let state = readRun(context, engine, id).state;
        require(state.status === 'pending', `a new run is ${state.status}, not pending`);
        for (const stage of [...contract.stages].sort((a, b) => a.order - b.order)) {
          state = await completeRunStage(context, engine, id, stage.id, [engine.example.output.name]);
          require(state.status ===
            (state.stages.every((s) => s.status === 'completed')
              ? 'completed'
              : 'in_progress'), `run status ${state.status} after completing ${stage.id}`);
          const stored = state.stages.find((s) => s.id === stage.id)!;
          require(stored.started_at !== undefined &&
            stored.completed_at !== undefined, `stage ${stage.id} lacks timestamps`);
          require(stored.outputs.length === 1, `stage ${stage.id} did not keep its output`);
        }
        require(state.status === 'completed', `run ended ${state.status}`);
        return `${state.stages.length} stage(s) pending -> in_progress -> completed, outputs hashed, ${store.stateFileName} kept`;
      }));
    const scrollFile = ledger.dataDir.scrollFile(engine.scroll);
    const sealed =
      ran &&
      (await judge('receipts', async () => {
        scrollBefore = readFileSync(scrollFile, 'utf8');
        const outcome = await sealRun(context, engine, id);
        receipt = outcome.receipt;
        require(engine.scroll.types.some(
          (t) => t.type === receipt!.type,
        ), `receipt type ${receipt.type} is not a type of scroll ${engine.scroll.name}`);
        validateDraft({ scroll: receipt.scroll, type: receipt.type, body: receipt.body, tags: receipt.tags });
        const problems = checkCase(outcome.caseDir).problems;
        require(problems.length ===
          0, `case files do not match ${MANIFEST_FILE}: ${problems.map((p) => p.path).join(', ')}`);
        verifyBundle(
          readFileSync(join(outcome.caseDir, PROOF_FILE), 'utf8'),
          [ledger!.identity.verifier],
          nodeTreeHasher,
        );
        const again = await sealRun(context, engine, id);
        require(again.already &&
          again.receipt.seq === receipt.seq, 'sealing twice appended a second receipt');
        return `seal -> ${receipt.type} (body valid), ${MANIFEST_FILE} re-hashes, ${PROOF_FILE} verifies, second seal is a no-op`;
      }));
    if (sealed && receipt !== undefined) {
      const sealedReceipt = receipt;
      await judge('append-only', () => {
        require(/^receipts\/[a-z0-9_-]+\/[A-Za-z0-9_.-]+\.jsonl$/.test(
          engine.scroll.file,
        ), `scroll file ${engine.scroll.file} is not receipts/<scroll>/<file>.jsonl`);
        const after = readFileSync(scrollFile, 'utf8');
        require(after.startsWith(scrollBefore), 'sealing changed lines that were already in the scroll');
        const added = after
          .slice(scrollBefore.length)
          .split('\n')
          .filter((l) => l !== '');
        require(added.length === 1, `sealing added ${added.length} lines, expected 1`);
        require(JSON.parse(added[0]!).seq === sealedReceipt.seq, 'the added line is not the sealed receipt');
        return `${engine.scroll.file} grew by exactly the sealed receipt; earlier bytes unchanged`;
      });
      await judge('root', () => {
        const status = ledger!.status(engine.scroll.name);
        const rootFile = parseRootFile(readFileSync(ledger!.dataDir.rootFile(engine.scroll), 'utf8'));
        require(rootFile.events ===
          status.size, `${engine.scroll.rootFile} covers ${rootFile.events} receipts, the scroll has ${status.size}`);
        require(toHex(rootFile.merkleRoot) ===
          toHex(status.root), `${engine.scroll.rootFile} root differs from the tree root`);
        return `${engine.scroll.rootFile} holds the RFC 6962 root of all ${status.size} receipts`;
      });
      await judge('anchor', async () => {
        require(SCROLLS.includes(
          engine.scroll,
        ), `scroll ${engine.scroll.name} is not registered, so no anchor covers it`);
        // A real cycle with the node's own signature as the backend: the one that needs no network.
        const config = guardianConfigSchema.parse({});
        const local = [createLocalBackend(loadNodeSigner(ledger!.dataDir), ledger!.identity.verifier, clock)];
        const cycle = await runAnchorCycle(ledger!, config, local, { clock });
        require(cycle.outcome === 'anchored', `the anchor cycle ended ${cycle.outcome}`);
        const head = cycle.heads.find((h) => h.scroll === engine.scroll.name);
        require(head !== undefined &&
          head.size > sealedReceipt.seq, 'the anchor does not cover the sealed receipt');
        const verified = await verifyAnchor(ledger!, config, local, cycle.anchor_id!);
        require(verified.ok, `the anchor does not verify: ${verified.checks.find((c) => !c.ok)?.detail}`);
        const inclusion = combinedInclusion(
          cycle.heads.map((h) => ({ scroll: h.scroll, size: h.size, root: fromHex(h.root.slice(7)) })),
          engine.scroll.name,
          nodeTreeHasher,
        )!;
        const combined = rootFromInclusionProof(
          inclusion.index,
          inclusion.size,
          nodeTreeHasher.hashLeaf(utf8(inclusion.leaf)),
          inclusion.proof,
          nodeTreeHasher,
        );
        require(`sha256:${toHex(combined)}` ===
          cycle.combined_root, 'the scroll head is not a leaf of the combined root');
        return `anchor ${cycle.anchor_id} covers seq ${sealedReceipt.seq} (head size ${head.size}, leaf ${inclusion.index} of combined root ${toHex(combined).slice(0, 16)}…) and verifies`;
      });
      await judge('query', async () => {
        const query = engine.operations.find((o) => o.name === 'query');
        require(query !== undefined, 'the engine has no query operation');
        const all = (await query.run(context, query.input.parse({}))) as Receipt[];
        require(all.some(
          (r) => r.seq === sealedReceipt.seq,
        ), 'query without filters does not return the sealed receipt');
        const byStatus = (await query.run(context, query.input.parse({ status: 'aborted' }))) as Receipt[];
        require(byStatus.length === 0, 'query --status aborted returned a completed run');
        const byTag = (await query.run(
          context,
          query.input.parse({ tag: [sealedReceipt.tags[0]] }),
        )) as Receipt[];
        require(byTag.some(
          (r) => r.seq === sealedReceipt.seq,
        ), `query --tag ${sealedReceipt.tags[0]} misses the receipt`);
        return 'query finds the sealed receipt, filters by status and tag';
      });
    }
    for (const check of GATE_CHECKS) {
      if (!checks.some((c) => c.check === check))
        checks.push({ check, ok: false, detail: 'not reached: an earlier check failed' });
    }
  } finally {
    await ledger?.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  return { engine: engine.id, ok: checks.every((c) => c.ok), checks };
}

function checkEntrypoints(engine: Engine): string {
  require(engine.operations.length > 0, 'the engine has no operations');
  const names = new Set<string>();
  for (const op of engine.operations) {
    require(!names.has(op.name), `operation ${op.name} is declared twice`);
    names.add(op.name);
    require(op.summary.trim() !== '', `operation ${op.name} has no summary`);
    const schema = z.toJSONSchema(op.input, { io: 'input', unrepresentable: 'any' }) as {
      properties?: Record<string, unknown>;
    };
    const fields = new Set(Object.keys(schema.properties ?? {}));
    for (const f of [...(op.cli.arguments ?? []), ...(op.cli.options ?? [])]) {
      require(fields.has(f.field), `operation ${op.name}: CLI field ${f.field} is not in its input schema`);
    }
  }
  require(names.has('query'), 'no query operation');
  require(engine.operations.some(
    (o) => o.access === 'write',
  ), 'no operation takes intent in (all are reads)');
  return `${engine.operations.length} operations (${[...names].join(', ')}), each with a JSON-schema input`;
}

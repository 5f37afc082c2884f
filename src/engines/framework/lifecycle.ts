/**
 * The Eternal Pattern's middle, shared by every engine: a validated contract starts a run, the
 * runner's transitions move it on under the run's lock, and sealing turns a finished run into a
 * case directory and a receipt. Sealing is idempotent: run again after a crash, it finishes what
 * the first attempt left undone and never appends a second receipt for the same run.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject, JsonValue } from '../../core/canonical.js';
import { VaultMeshError } from '../../core/errors.js';
import { assertSafeId } from '../../core/ids.js';
import type { Receipt } from '../../core/receipt.js';
import {
  abortRun,
  checkState,
  completeStage,
  initState,
  isFinished,
  nextStageId,
  startStage,
  type RunState,
  type StagedContract,
} from '../../core/runner.js';
import { MANIFEST_FILE, PROOF_FILE, caseDir, writeCase, writeProof } from '../../ledger/case-store.js';
import { RunStore, type StoredRun } from '../../ledger/run-store.js';
import type { Engine, EngineContext } from './engine.js';
import { zodProblem } from './input.js';

export interface Run<C extends StagedContract = StagedContract> {
  contract: C;
  state: RunState;
}

export function runStore(context: EngineContext, engine: Engine): RunStore {
  return new RunStore(context.ledger.dataDir, engine.id, engine.runNoun);
}

/** Checks a contract (from `plan` or a hand-written file) against the engine's schema and the runner's rules. */
export function validateContract<C extends StagedContract>(
  engine: Engine<C>,
  value: unknown,
  source: string,
): C {
  const parsed = engine.contract.safeParse(value);
  if (!parsed.success) {
    throw new VaultMeshError('INVALID_CONTRACT', `${source}: ${zodProblem(parsed.error, 'contract')}`, {
      hint: `fix the field and try again; vm ${engine.id} plan writes a valid contract to start from`,
    });
  }
  const contract = parsed.data;
  assertSafeId(contract.id, 'contract.id');
  const seen = new Set<string>();
  for (const [i, stage] of contract.stages.entries()) {
    assertSafeId(stage.id, `contract.stages.${i}.id`);
    if (seen.has(stage.id)) {
      throw new VaultMeshError(
        'INVALID_CONTRACT',
        `${source}: contract.stages.${i}.id "${stage.id}" is used twice`,
        {
          hint: 'give every stage its own id',
        },
      );
    }
    seen.add(stage.id);
  }
  if (contract.stages.length === 0) {
    throw new VaultMeshError('INVALID_CONTRACT', `${source}: contract.stages is empty`, {
      hint: 'a contract needs at least one stage',
    });
  }
  return contract;
}

export function initRun<C extends StagedContract>(
  context: EngineContext,
  engine: Engine<C>,
  value: unknown,
  source: string,
): Run<C> {
  const contract = validateContract(engine, value, source);
  if (findSealed(context, engine, contract.id) !== undefined) {
    throw new VaultMeshError('RUN_EXISTS', `${engine.runNoun} ${contract.id} is already sealed`, {
      hint: `see it with: vm ${engine.id} query; plan a new ${engine.runNoun} for new work`,
    });
  }
  const state = initState(contract, context.clock());
  runStore(context, engine).create(contract as unknown as JsonValue, state);
  return { contract, state };
}

/** A stored run, its contract and state checked against each other before anything acts on them. */
function checked<C extends StagedContract>(engine: Engine<C>, stored: StoredRun, id: string): Run<C> {
  const contract = validateContract(engine, stored.contract, `${id}/contract.json`);
  return { contract, state: checkState(contract, stored.state, `${id}/${engine.runNoun}_state.json`) };
}

export function readRun<C extends StagedContract>(
  context: EngineContext,
  engine: Engine<C>,
  id: string,
): Run<C> {
  return checked(engine, runStore(context, engine).read(id), id);
}

/** Applies one transition under the run's lock. */
function changeRun(
  context: EngineContext,
  engine: Engine,
  id: string,
  change: (run: Run) => RunState,
): Promise<RunState> {
  return runStore(context, engine).update(id, (stored) => change(checked(engine, stored, id)));
}

/** The run a command means: the one named, else the only open one. */
export function resolveRunId(context: EngineContext, engine: Engine, id: string | undefined): string {
  if (id !== undefined) return assertSafeId(id, `--${engine.runNoun}`);
  const open = runStore(context, engine)
    .ids()
    .filter((runId) => !isFinished(runStore(context, engine).read(runId).state));
  if (open.length === 1) return open[0]!;
  if (open.length === 0) {
    throw new VaultMeshError('NO_ACTIVE_RUN', `no ${engine.runNoun} is in progress`, {
      hint: `start one with: vm ${engine.id} init contract.json`,
    });
  }
  throw new VaultMeshError(
    'AMBIGUOUS_RUN',
    `${open.length} ${engine.runNoun}s are open: ${open.join(', ')}`,
    {
      hint: `say which with --${engine.runNoun} <id>`,
    },
  );
}

/** Starts the next stage (if it is not started yet) and returns it. */
export async function advance(context: EngineContext, engine: Engine, id: string): Promise<Run> {
  let contract: StagedContract | undefined;
  const state = await changeRun(context, engine, id, (run) => {
    contract = run.contract;
    const next = nextStageId(run.state);
    return next === undefined ? run.state : startStage(run.contract, run.state, next, context.clock());
  });
  return { contract: contract!, state };
}

export function completeRunStage(
  context: EngineContext,
  engine: Engine,
  id: string,
  stageId: string,
  files: readonly string[],
): Promise<RunState> {
  return changeRun(context, engine, id, ({ contract, state }) => {
    const now = context.clock();
    // The transition is checked before any file is copied, so a refused one leaves nothing behind.
    completeStage(contract, state, stageId, [], now);
    const outputs = runStore(context, engine).attach(id, stageId, files, context.cwd);
    return completeStage(contract, state, stageId, outputs, now);
  });
}

export function abort(context: EngineContext, engine: Engine, id: string, reason: string): Promise<RunState> {
  return changeRun(context, engine, id, ({ state }) => abortRun(state, reason, context.clock()));
}

/** The receipt that sealed run `id`, if there is one. */
export function findSealed(context: EngineContext, engine: Engine, id: string): Receipt | undefined {
  const [found] = context.ledger.query(engine.scroll.name, {
    where: [{ path: engine.runIdField, value: id, text: id }],
    limit: 1,
  });
  return found;
}

export interface SealOutcome {
  receipt: Receipt;
  caseDir: string;
  proofPath: string;
  /** True when an earlier seal had already recorded the receipt. */
  already: boolean;
}

export async function sealRun(context: EngineContext, engine: Engine, id: string): Promise<SealOutcome> {
  const store = runStore(context, engine);
  const { dataDir } = context.ledger;
  assertSafeId(id, `${engine.runNoun} id`);
  return store.locked(id, async () => {
    const existing = findSealed(context, engine, id);
    const dir = caseDir(dataDir, engine.id, id);
    if (existing !== undefined) {
      if (!existsSync(join(dir, PROOF_FILE)))
        writeProof(dir, await context.ledger.bundle(engine.scroll.name, existing.seq));
      store.remove(id);
      return { receipt: existing, caseDir: dir, proofPath: join(dir, PROOF_FILE), already: true };
    }
    const { contract, state } = readRun(context, engine, id);
    if (!isFinished(state)) {
      throw new VaultMeshError(
        'RUN_NOT_FINISHED',
        `${engine.runNoun} ${id} is ${state.status}; only a finished run is sealed`,
        {
          hint: `complete its stages (vm ${engine.id} next) or abort it with --reason, then seal`,
          evidence: { status: state.status },
        },
      );
    }
    const runDir = store.dir(id);
    const sealed = writeCase(dataDir, engine.id, id, [
      { path: 'contract.json', from: join(runDir, 'contract.json') },
      { path: store.stateFileName, from: join(runDir, store.stateFileName) },
      ...state.stages.flatMap((s) =>
        s.outputs.map((o) => ({ path: o.path, from: join(runDir, o.path), expected: o.sha256 })),
      ),
    ]);
    const content = engine.seal(contract, state, {
      caseDir: sealed.relDir,
      proofPath: join(sealed.relDir, PROOF_FILE),
      artifactsManifest: join(sealed.relDir, MANIFEST_FILE),
      manifestHash: sealed.manifestHash,
      artifacts: sealed.artifacts,
    });
    if ((content.body as JsonObject)[engine.runIdField] !== id) {
      throw new VaultMeshError(
        'INTERNAL',
        `engine ${engine.id} sealed a body without ${engine.runIdField} = ${id}`,
      );
    }
    const [appended] = await context.ledger.emit([
      { scroll: engine.scroll.name, type: content.type, body: content.body, tags: content.tags },
    ]);
    const receipt = appended!.receipt;
    writeProof(sealed.dir, await context.ledger.bundle(engine.scroll.name, receipt.seq));
    store.remove(id);
    return { receipt, caseDir: sealed.dir, proofPath: join(sealed.dir, PROOF_FILE), already: false };
  });
}

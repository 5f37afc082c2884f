/**
 * The runner every engine shares: a contract's stages walked to completion or abort, as pure
 * transitions from one state to the next. Refused transitions throw with the rule they broke, so
 * the state on disk is only ever replaced by a legal successor.
 */
import { z } from 'zod';
import { VaultMeshError } from './errors.js';

export type RunStatus = 'pending' | 'in_progress' | 'completed' | 'aborted';
export type StageStatus = 'pending' | 'in_progress' | 'completed';

/** What the runner needs of a contract; engines add their own fields around it. */
export interface StagedContract {
  readonly id: string;
  readonly title: string;
  /** When true a stage may start only after every stage of a lower `order` has completed. */
  readonly sequential: boolean;
  readonly stages: readonly { readonly id: string; readonly order: number }[];
}

/** A file attached to a stage, hashed when it was attached. */
export interface StageOutput {
  /** Path inside the run directory, e.g. `outputs/stage-1-iot/inventory.yaml`. */
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
}

export interface StageState {
  readonly id: string;
  readonly status: StageStatus;
  readonly started_at?: string;
  readonly completed_at?: string;
  readonly outputs: readonly StageOutput[];
}

export interface RunState {
  readonly id: string;
  readonly status: RunStatus;
  readonly created_at: string;
  readonly updated_at: string;
  readonly started_at?: string;
  readonly completed_at?: string;
  readonly aborted_at?: string;
  readonly abort_reason?: string;
  readonly stages: readonly StageState[];
}

const stamp = z.iso.datetime({ offset: true });
const stageStateSchema = z.strictObject({
  id: z.string().min(1),
  status: z.enum(['pending', 'in_progress', 'completed']),
  started_at: stamp.optional(),
  completed_at: stamp.optional(),
  outputs: z.array(
    z.strictObject({
      path: z.string().regex(/^outputs\/[^/]+\/[^/]+$/, 'expected outputs/<stage>/<file>'),
      sha256: z.string().regex(/^sha256:[0-9a-f]{64}$/),
      bytes: z.number().int().nonnegative(),
    }),
  ),
});

/** A state file read back from disk is checked as strictly as any other input. */
export const runStateSchema = z.strictObject({
  id: z.string().min(1),
  status: z.enum(['pending', 'in_progress', 'completed', 'aborted']),
  created_at: stamp,
  updated_at: stamp,
  started_at: stamp.optional(),
  completed_at: stamp.optional(),
  aborted_at: stamp.optional(),
  abort_reason: z.string().optional(),
  stages: z.array(stageStateSchema),
});

/**
 * Checks a stored state against the contract it runs: the same stages, and a status its stages allow.
 * @throws VaultMeshError INVALID_STATE naming what does not fit.
 */
export function checkState(contract: StagedContract, state: RunState, source: string): RunState {
  const fail = (problem: string) =>
    new VaultMeshError('INVALID_STATE', `${source}: ${problem}`, {
      hint: 'the state file was changed outside VaultMesh; restore it, or abort and plan the run again',
    });
  const expected = [...contract.stages].sort((a, b) => a.order - b.order).map((s) => s.id);
  if (state.id !== contract.id) throw fail(`state is of run ${state.id}, the contract of ${contract.id}`);
  if (state.stages.map((s) => s.id).join('\n') !== expected.join('\n'))
    throw fail(
      `stages ${state.stages.map((s) => s.id).join(', ')} are not the contract's ${expected.join(', ')}`,
    );
  const allDone = state.stages.every((s) => s.status === 'completed');
  if ((state.status === 'completed') !== allDone && state.status !== 'aborted')
    throw fail(`status ${state.status} does not match its stages`);
  return state;
}

export function initState(contract: StagedContract, now: Date): RunState {
  const at = now.toISOString();
  return {
    id: contract.id,
    status: 'pending',
    created_at: at,
    updated_at: at,
    stages: orderedStages(contract).map((s) => ({ id: s.id, status: 'pending', outputs: [] })),
  };
}

export function isFinished(state: RunState): boolean {
  return state.status === 'completed' || state.status === 'aborted';
}

/** The stage to work on now: the one in progress, else the first not completed in contract order. */
export function nextStageId(state: RunState): string | undefined {
  if (isFinished(state)) return undefined;
  const open = state.stages.filter((s) => s.status !== 'completed');
  return (open.find((s) => s.status === 'in_progress') ?? open[0])?.id;
}

export function startStage(contract: StagedContract, state: RunState, stageId: string, now: Date): RunState {
  const stage = openStage(contract, state, stageId, 'start');
  if (stage.status === 'in_progress') return state;
  const at = now.toISOString();
  return replaceStage(
    { ...state, status: 'in_progress', started_at: state.started_at ?? at, updated_at: at },
    { ...stage, status: 'in_progress', started_at: at },
  );
}

/** Completes a stage (starting it first if needed); the run completes with its last stage. */
export function completeStage(
  contract: StagedContract,
  state: RunState,
  stageId: string,
  outputs: readonly StageOutput[],
  now: Date,
): RunState {
  openStage(contract, state, stageId, 'complete');
  const started = startStage(contract, state, stageId, now);
  const stage = started.stages.find((s) => s.id === stageId)!;
  const at = now.toISOString();
  const next = replaceStage(
    { ...started, updated_at: at },
    { ...stage, status: 'completed', completed_at: at, outputs: [...stage.outputs, ...outputs] },
  );
  return next.stages.every((s) => s.status === 'completed')
    ? { ...next, status: 'completed', completed_at: at }
    : next;
}

export function abortRun(state: RunState, reason: string, now: Date): RunState {
  assertOpen(state, 'abort');
  if (reason.trim() === '') {
    throw new VaultMeshError('INVALID_ARGUMENT', 'an abort needs a reason', {
      hint: 'say why with --reason "<text>"; the reason goes into the sealed receipt',
    });
  }
  const at = now.toISOString();
  return { ...state, status: 'aborted', aborted_at: at, abort_reason: reason, updated_at: at };
}

function orderedStages(contract: StagedContract) {
  return [...contract.stages].sort((a, b) => a.order - b.order);
}

function assertOpen(state: RunState, action: string): void {
  if (isFinished(state)) {
    throw new VaultMeshError(
      'ILLEGAL_TRANSITION',
      `cannot ${action}: run ${state.id} is already ${state.status}`,
      {
        hint: 'a finished run only gets sealed; plan and init a new run to do more work',
        evidence: { run: state.id, status: state.status },
      },
    );
  }
}

function openStage(contract: StagedContract, state: RunState, stageId: string, action: string): StageState {
  assertOpen(state, `${action} stage ${stageId}`);
  const spec = contract.stages.find((s) => s.id === stageId);
  const stage = state.stages.find((s) => s.id === stageId);
  if (spec === undefined || stage === undefined) {
    throw new VaultMeshError('UNKNOWN_STAGE', `run ${state.id} has no stage "${stageId}"`, {
      hint: `use one of: ${state.stages.map((s) => s.id).join(', ')}`,
    });
  }
  if (stage.status === 'completed') {
    throw new VaultMeshError(
      'ILLEGAL_TRANSITION',
      `stage ${stageId} of run ${state.id} is already completed`,
      {
        hint: 'a completed stage stays completed; attach further evidence to a later stage',
        evidence: { run: state.id, stage: stageId, completed_at: stage.completed_at },
      },
    );
  }
  if (contract.sequential) {
    const blocker = orderedStages(contract).find(
      (s) => s.order < spec.order && state.stages.find((x) => x.id === s.id)?.status !== 'completed',
    );
    if (blocker !== undefined) {
      throw new VaultMeshError(
        'ILLEGAL_TRANSITION',
        `cannot ${action} stage ${stageId}: stage ${blocker.id} comes first and is not completed`,
        {
          hint: `this contract is sequential; complete ${blocker.id} first (see: next)`,
          evidence: { run: state.id, stage: stageId, blocking: blocker.id },
        },
      );
    }
  }
  return stage;
}

function replaceStage(state: RunState, stage: StageState): RunState {
  return { ...state, stages: state.stages.map((s) => (s.id === stage.id ? stage : s)) };
}

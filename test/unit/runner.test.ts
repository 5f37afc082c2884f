import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  abortRun,
  checkState,
  completeStage,
  initState,
  nextStageId,
  runStateSchema,
  startStage,
  type RunState,
  type StagedContract,
} from '../../src/core/runner.js';
import { codeOf, errorOf } from '../helpers/errors.js';

const T0 = new Date('2026-11-23T07:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const output = (name: string) => ({
  path: `outputs/x/${name}`,
  sha256: `sha256:${'0'.repeat(64)}`,
  bytes: 1,
});

function contract(sequential = true, ids = ['recon', 'exploit', 'report']): StagedContract {
  // Declared out of order: the runner follows `order`, not the array position.
  const stages = ids.map((id, i) => ({ id, order: i + 1 })).reverse();
  return { id: 'drill-1', title: 'test', sequential, stages };
}

describe('stage runner transitions', () => {
  it('init: every stage pending, in contract order, timestamps set', () => {
    const state = initState(contract(), T0);
    expect(state).toMatchObject({ id: 'drill-1', status: 'pending', created_at: T0.toISOString() });
    expect(state.stages.map((s) => [s.id, s.status])).toEqual([
      ['recon', 'pending'],
      ['exploit', 'pending'],
      ['report', 'pending'],
    ]);
    expect(nextStageId(state)).toBe('recon');
  });

  it('start: pending -> in_progress for stage and run; starting again changes nothing', () => {
    const c = contract();
    const started = startStage(c, initState(c, T0), 'recon', at(1));
    expect(started.status).toBe('in_progress');
    expect(started.started_at).toBe(at(1).toISOString());
    expect(started.stages[0]).toMatchObject({ status: 'in_progress', started_at: at(1).toISOString() });
    expect(startStage(c, started, 'recon', at(2))).toBe(started);
    expect(nextStageId(started)).toBe('recon');
  });

  it('complete: attaches outputs, moves next on, completes the run with the last stage', () => {
    const c = contract();
    let state = completeStage(c, initState(c, T0), 'recon', [output('a')], at(1));
    expect(state.stages[0]).toMatchObject({ status: 'completed', completed_at: at(1).toISOString() });
    expect(state.stages[0]!.outputs).toEqual([output('a')]);
    expect(state.status).toBe('in_progress');
    expect(nextStageId(state)).toBe('exploit');
    state = completeStage(c, state, 'exploit', [], at(2));
    state = completeStage(c, state, 'report', [output('r')], at(3));
    expect(state.status).toBe('completed');
    expect(state.completed_at).toBe(at(3).toISOString());
    expect(nextStageId(state)).toBeUndefined();
  });

  it('refuses completing a stage twice, naming the stage', () => {
    const c = contract();
    const state = completeStage(c, initState(c, T0), 'recon', [], at(1));
    const error = errorOf(() => completeStage(c, state, 'recon', [], at(2)));
    expect(error.code).toBe('ILLEGAL_TRANSITION');
    expect(error.message).toContain('recon');
    expect(error.message).toContain('already completed');
  });

  it('refuses a stage out of order when the contract is sequential, naming the blocker', () => {
    const c = contract();
    const error = errorOf(() => completeStage(c, initState(c, T0), 'report', [], at(1)));
    expect(error.code).toBe('ILLEGAL_TRANSITION');
    expect(error.evidence).toMatchObject({ stage: 'report', blocking: 'recon' });
    expect(codeOf(() => startStage(c, initState(c, T0), 'exploit', at(1)))).toBe('ILLEGAL_TRANSITION');
  });

  it('allows any order when the contract is not sequential', () => {
    const c = contract(false);
    let state = completeStage(c, initState(c, T0), 'report', [], at(1));
    state = completeStage(c, state, 'recon', [], at(2));
    expect(nextStageId(state)).toBe('exploit');
    expect(completeStage(c, state, 'exploit', [], at(3)).status).toBe('completed');
  });

  it('refuses an unknown stage, listing the known ones', () => {
    const c = contract();
    const error = errorOf(() => completeStage(c, initState(c, T0), 'cleanup', [], at(1)));
    expect(error.code).toBe('UNKNOWN_STAGE');
    expect(error.hint).toContain('recon, exploit, report');
  });

  it('abort: needs a reason; an aborted run takes no further transition', () => {
    const c = contract();
    const state = initState(c, T0);
    expect(codeOf(() => abortRun(state, '  ', at(1)))).toBe('INVALID_ARGUMENT');
    const aborted = abortRun(state, 'scope withdrawn', at(1));
    expect(aborted).toMatchObject({
      status: 'aborted',
      abort_reason: 'scope withdrawn',
      aborted_at: at(1).toISOString(),
    });
    expect(codeOf(() => completeStage(c, aborted, 'recon', [], at(2)))).toBe('ILLEGAL_TRANSITION');
    expect(codeOf(() => startStage(c, aborted, 'recon', at(2)))).toBe('ILLEGAL_TRANSITION');
    expect(codeOf(() => abortRun(aborted, 'again', at(2)))).toBe('ILLEGAL_TRANSITION');
    expect(nextStageId(aborted)).toBeUndefined();
  });

  it('a completed run cannot be aborted or changed', () => {
    const c = contract(true, ['only']);
    const done = completeStage(c, initState(c, T0), 'only', [], at(1));
    expect(done.status).toBe('completed');
    expect(codeOf(() => abortRun(done, 'late', at(2)))).toBe('ILLEGAL_TRANSITION');
    expect(codeOf(() => completeStage(c, done, 'only', [], at(2)))).toBe('ILLEGAL_TRANSITION');
  });

  it('checkState refuses a state that does not fit its contract', () => {
    const c = contract();
    const state = initState(c, T0);
    expect(checkState(c, state, 'state.json')).toBe(state);
    expect(codeOf(() => checkState(c, { ...state, id: 'drill-2' }, 'state.json'))).toBe('INVALID_STATE');
    expect(codeOf(() => checkState(c, { ...state, stages: state.stages.slice(1) }, 'state.json'))).toBe(
      'INVALID_STATE',
    );
    expect(errorOf(() => checkState(c, { ...state, status: 'completed' }, 'state.json')).message).toContain(
      'does not match its stages',
    );
    const aborted = abortRun(state, 'stop', at(1));
    expect(checkState(c, aborted, 'state.json')).toBe(aborted);
    expect(runStateSchema.safeParse(state).success).toBe(true);
    expect(runStateSchema.safeParse({ ...state, status: 'done' }).success).toBe(false);
  });

  it('transitions never mutate the state they are given', () => {
    const c = contract();
    const state = initState(c, T0);
    const snapshot = structuredClone(state);
    completeStage(c, state, 'recon', [output('a')], at(1));
    abortRun(state, 'x', at(1));
    expect(state).toEqual(snapshot);
  });
});

describe('stage runner invariants (property)', () => {
  type Step = { kind: 'start' | 'complete'; stage: number } | { kind: 'abort' };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constantFrom('start' as const, 'complete' as const), stage: fc.nat(5) }),
    fc.constant({ kind: 'abort' as const }),
  );

  it('any sequence of attempted transitions keeps the state consistent', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: 1, max: 5 }),
        fc.array(step, { maxLength: 30 }),
        (sequential, n, steps) => {
          const ids = Array.from({ length: n }, (_, i) => `s${i}`);
          const c = contract(sequential, ids);
          let state: RunState = initState(c, T0);
          steps.forEach((s, minute) => {
            const before = state;
            try {
              if (s.kind === 'abort') state = abortRun(state, 'stop', at(minute));
              else if (s.kind === 'start') state = startStage(c, state, `s${s.stage}`, at(minute));
              else state = completeStage(c, state, `s${s.stage}`, [], at(minute));
            } catch (error) {
              expect(['ILLEGAL_TRANSITION', 'UNKNOWN_STAGE']).toContain(
                codeOf(() => {
                  throw error;
                }),
              );
              expect(state).toBe(before);
            }
            const completed = state.stages.filter((x) => x.status === 'completed');
            // Completed stages never go back.
            for (const old of before.stages.filter((x) => x.status === 'completed'))
              expect(state.stages.find((x) => x.id === old.id)!.status).toBe('completed');
            if (state.status === 'completed') expect(completed).toHaveLength(n);
            if (completed.length === n && state.status !== 'aborted') expect(state.status).toBe('completed');
            if (sequential) {
              // Completed stages form a prefix of the contract order.
              const statuses = state.stages.map((x) => x.status === 'completed');
              expect(
                statuses.indexOf(false) === -1 || !statuses.slice(statuses.indexOf(false)).includes(true),
              ).toBe(true);
            }
            for (const x of completed) expect(x.started_at! <= x.completed_at!).toBe(true);
          });
        },
      ),
    );
  });
});

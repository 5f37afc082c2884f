/**
 * The design gate is only worth running if it fails engines that break the pattern: each broken
 * engine below is a working one with one piece of the checklist taken away.
 */
import { describe, expect, it } from 'vitest';
import { drillsEngine } from '../../src/engines/drills/index.js';
import type { DrillContract } from '../../src/engines/drills/contract.js';
import type { DrillIntent } from '../../src/engines/drills/plan.js';
import { defineEngine, type Engine, type EngineSpec } from '../../src/engines/framework/engine.js';
import { runGate, GATE_CHECKS, type GateReport } from '../../src/engines/framework/gate.js';
import { runnerOperations } from '../../src/engines/framework/operations.js';
import { ENGINES } from '../../src/engines/registry.js';

// defineEngine derives runIdField and operations afresh, so the engine itself serves as its spec.
const drillsSpec: EngineSpec<DrillContract, DrillIntent> = drillsEngine;

function broken(
  change: Partial<typeof drillsSpec>,
  operations: (engine: Engine) => ReturnType<typeof runnerOperations> = runnerOperations,
): Engine {
  return defineEngine({ ...drillsSpec, ...change }, (engine) =>
    operations(engine as unknown as Engine),
  ) as unknown as Engine;
}

const failed = (report: GateReport) => report.checks.filter((c) => !c.ok).map((c) => c.check);

describe('vm gate', () => {
  it.each(ENGINES.map((e) => [e.id, e] as const))('passes the registered engine %s', async (_id, engine) => {
    const report = await runGate(engine);
    expect(report.checks.map((c) => c.check)).toEqual([...GATE_CHECKS]);
    expect(failed(report), JSON.stringify(report.checks, null, 2)).toEqual([]);
  });

  it('fails an engine without a query (entrypoint)', async () => {
    const report = await runGate(broken({}, (e) => runnerOperations(e).filter((o) => o.name !== 'query')));
    expect(failed(report)).toContain('entrypoint');
    expect(failed(report)).toContain('query');
  });

  it('fails an engine whose plan ignores the id it is given (contract)', async () => {
    const report = await runGate(
      broken({ plan: (intent, context) => drillsSpec.plan(intent, { now: context.now, id: 'other' }) }),
    );
    expect(failed(report)[0]).toBe('contract');
    expect(report.checks.find((c) => c.check === 'state')!.detail).toContain('not reached');
  });

  it('fails an engine whose receipt is not a type of its scroll (receipts)', async () => {
    const report = await runGate(
      broken({
        seal: (contract, state, facts) => ({
          ...drillsSpec.seal(contract, state, facts),
          type: 'drill_done',
        }),
      }),
    );
    expect(failed(report)).toEqual(['receipts', 'append-only', 'root', 'anchor', 'query']);
    expect(report.checks.find((c) => c.check === 'receipts')!.detail).toContain('drill_done');
  });

  it('fails an engine whose receipt body breaks its schema (receipts)', async () => {
    const report = await runGate(
      broken({
        seal: (contract, state, facts) => {
          const sealed = drillsSpec.seal(contract, state, facts);
          return { ...sealed, body: { ...sealed.body, stages_total: -1 } };
        },
      }),
    );
    expect(failed(report)[0]).toBe('receipts');
    expect(report.checks.find((c) => c.check === 'receipts')!.detail).toContain('stages_total');
  });
});

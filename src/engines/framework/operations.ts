/**
 * The operations every staged engine offers, written once: init, next, status, complete-stage,
 * abort, seal and query. An engine adds its own `plan` (its intent differs) and anything else.
 */
import { z } from 'zod';
import { parseJson } from '../../core/canonical.js';
import { VaultMeshError } from '../../core/errors.js';
import type { Receipt } from '../../core/receipt.js';
import { nextStageId, type RunState, type StagedContract } from '../../core/runner.js';
import type { WhereClause } from '../../ledger/query-index.js';
import { table } from '../../core/table.js';
import { defineOperation, type AnyOperation, type Engine, type EngineContext } from './engine.js';
import { readUserFile } from './user-files.js';
import { configuredBackends, guardianConfig } from '../guardian/config.js';
import { runAnchorCycle } from '../guardian/cycle.js';
import {
  abort,
  advance,
  completeRunStage,
  initRun,
  readRun,
  resolveRunId,
  runStore,
  sealRun,
} from './lifecycle.js';

const MAX_CONTRACT_BYTES = 1024 * 1024;
const isoTime = z.iso.datetime({ offset: true });
const day = z.iso.date();
/** `--from`/`--to`: a day (YYYY-MM-DD) or an ISO time; see `timeBound`. */
export const timeInput = z.union([day, isoTime], {
  error: 'expected a date (2026-11-30) or an ISO time (2026-11-30T12:00:00Z)',
});

export function readContractFile(context: EngineContext, file: string): unknown {
  const bytes = readUserFile(
    context,
    file,
    'contract',
    'pass the path of a contract.json (the plan command writes one)',
  );
  if (bytes.length > MAX_CONTRACT_BYTES) {
    throw new VaultMeshError('INVALID_CONTRACT', `${file} is larger than ${MAX_CONTRACT_BYTES} bytes`);
  }
  return parseJson(bytes.toString('utf8'), file);
}

function stageLines(contract: StagedContract, state: RunState): string[] {
  return state.stages.map((s) => {
    const spec = contract.stages.find((c) => c.id === s.id);
    const outputs = s.outputs.length === 0 ? '' : `  (${s.outputs.length} outputs)`;
    return `  ${s.status.padEnd(11)} ${String(spec?.order ?? '').padStart(2)}. ${s.id}${outputs}`;
  });
}

function runSummary(run: { contract: StagedContract; state: RunState }): string {
  const { contract, state } = run;
  const done = state.stages.filter((s) => s.status === 'completed').length;
  const lines = [
    `${state.id}: ${contract.title}`,
    `status ${state.status}, ${done}/${state.stages.length} stages completed`,
  ];
  if (state.abort_reason !== undefined) lines.push(`aborted: ${state.abort_reason}`);
  return [...lines, ...stageLines(contract, state)].join('\n');
}

const runOption = (engine: Engine) => ({
  field: 'run',
  flags: `--${engine.runNoun} <id>`,
  description: `the ${engine.runNoun} (default: the only one in progress)`,
});

export function initOperation(engine: Engine): AnyOperation {
  return defineOperation({
    name: 'init',
    summary: `start a ${engine.runNoun} from a contract file`,
    access: 'write',
    local: true,
    input: z.object({ contract: z.string().min(1) }),
    cli: { arguments: [{ field: 'contract', name: 'contract', description: 'contract.json' }] },
    async run(context, input) {
      const run = initRun(context, engine, readContractFile(context, input.contract), input.contract);
      return { ...run, dir: runStore(context, engine).dir(run.state.id) };
    },
    human: (r) => `${runSummary(r)}\nworking files: ${r.dir}\nnext: vm ${engine.id} next`,
  });
}

export function nextOperation(engine: Engine): AnyOperation {
  return defineOperation({
    name: 'next',
    summary: 'start the next stage and show what it asks for',
    access: 'write',
    input: z.object({ run: z.string().optional() }),
    cli: { options: [runOption(engine)] },
    async run(context, input) {
      const id = resolveRunId(context, engine, input.run);
      const { contract, state } = await advance(context, engine, id);
      const stageId = nextStageId(state);
      return { id, status: state.status, stage: contract.stages.find((s) => s.id === stageId) ?? null };
    },
    human: (r) =>
      r.stage === null
        ? `${r.id} is ${r.status}; nothing left to do. seal it with: vm ${engine.id} seal ${r.id}`
        : [
            `${r.id}: stage ${r.stage.id} is in progress`,
            ...Object.entries(r.stage)
              .filter(([key]) => key !== 'id')
              .map(([key, value]) =>
                Array.isArray(value)
                  ? `${key}:\n${value.map((v) => `  - ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('\n')}`
                  : `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`,
              ),
            `when done: vm ${engine.id} complete-stage ${r.stage.id} --outputs <files...>`,
          ].join('\n'),
  });
}

export function statusOperation(engine: Engine): AnyOperation {
  return defineOperation({
    name: 'status',
    summary: `show the open ${engine.runNoun}s, or one in detail`,
    access: 'read',
    input: z.object({ run: z.string().optional() }),
    cli: { options: [{ ...runOption(engine), description: `show this ${engine.runNoun} in detail` }] },
    async run(context, input) {
      const ids =
        input.run === undefined
          ? runStore(context, engine).ids()
          : [resolveRunId(context, engine, input.run)];
      return ids.map((id) => readRun(context, engine, id));
    },
    human: (runs) => (runs.length === 0 ? `no open ${engine.runNoun}s` : runs.map(runSummary).join('\n\n')),
  });
}

export function completeStageOperation(engine: Engine): AnyOperation {
  return defineOperation({
    name: 'complete-stage',
    summary: 'mark a stage completed, attaching its output files',
    access: 'write',
    local: true,
    input: z.object({
      stage: z.string().min(1),
      outputs: z.array(z.string().min(1)).max(1000).default([]),
      run: z.string().optional(),
    }),
    cli: {
      arguments: [{ field: 'stage', name: 'stage-id' }],
      options: [
        { field: 'outputs', flags: '--outputs <files...>', description: 'files the stage produced' },
        runOption(engine),
      ],
    },
    async run(context, input) {
      const id = resolveRunId(context, engine, input.run);
      const state = await completeRunStage(context, engine, id, input.stage, input.outputs);
      return { id, stage: input.stage, state };
    },
    human: (r) =>
      [
        `${r.id}: stage ${r.stage} completed (${r.state.stages.filter((s) => s.status === 'completed').length}/${r.state.stages.length})`,
        r.state.status === 'completed'
          ? `all stages done; seal it with: vm ${engine.id} seal ${r.id}`
          : `next: vm ${engine.id} next`,
      ].join('\n'),
  });
}

export function abortOperation(engine: Engine): AnyOperation {
  return defineOperation({
    name: 'abort',
    summary: `stop a ${engine.runNoun}; it can still be sealed, as aborted`,
    access: 'write',
    input: z.object({ reason: z.string().min(1).max(4096), run: z.string().optional() }),
    cli: {
      options: [
        { field: 'reason', flags: '--reason <text>', description: 'why (goes into the receipt)' },
        runOption(engine),
      ],
    },
    async run(context, input) {
      const id = resolveRunId(context, engine, input.run);
      return abort(context, engine, id, input.reason);
    },
    human: (s) => `${s.id} aborted: ${s.abort_reason}\nseal it with: vm ${engine.id} seal ${s.id}`,
  });
}

export function sealOperation(engine: Engine): AnyOperation {
  return defineOperation({
    name: 'seal',
    summary: `seal a finished ${engine.runNoun}: case directory, manifest, receipt, proof`,
    access: 'write',
    input: z.object({ run: z.string().min(1), anchor: z.boolean().default(false) }),
    cli: {
      arguments: [{ field: 'run', name: `${engine.runNoun}-id` }],
      options: [{ field: 'anchor', flags: '--anchor', description: 'then run a Guardian anchor cycle' }],
    },
    async run(context, input) {
      const sealed = await sealRun(context, engine, input.run);
      if (!input.anchor) return { ...sealed, anchor: null };
      const config = guardianConfig(context.ledger);
      const cycle = await runAnchorCycle(
        context.ledger,
        config,
        configuredBackends(context.ledger, config, context.clock),
        {
          clock: context.clock,
        },
      );
      // A seal is done whatever the cycle found; the cycle's own receipts say what it did.
      return {
        ...sealed,
        anchor: { outcome: cycle.outcome, anchor_id: cycle.anchor_id, failures: cycle.failures.length },
      };
    },
    human: (r) =>
      [
        `${r.already ? 'already sealed' : 'sealed'}: ${engine.scroll.name} seq ${r.receipt.seq} (${r.receipt.type}) ${r.receipt.root_hash}`,
        `case:  ${r.caseDir}`,
        `proof: ${r.proofPath}`,
        ...(r.anchor === null
          ? []
          : [`anchor: ${r.anchor.outcome} ${r.anchor.anchor_id ?? ''} (vm guardian anchor-status)`]),
      ].join('\n'),
  });
}

export function queryOperation(engine: Engine): AnyOperation {
  const filters = Object.fromEntries(
    engine.queryFilters.map((f) => [f.option, z.string().min(1).optional()]),
  );
  return defineOperation({
    name: 'query',
    summary: `find sealed ${engine.runNoun}s by status, date, tags and more`,
    access: 'read',
    input: z.object({
      pattern: z.string().min(1).max(256).optional(),
      status: z.enum(['pending', 'in_progress', 'completed', 'aborted']).optional(),
      from: timeInput.optional(),
      to: timeInput.optional(),
      tag: z.array(z.string().min(1)).optional(),
      limit: z.coerce.number().int().min(1).max(10_000).default(100),
      ...filters,
    }),
    cli: {
      ...(engine.searchFields === undefined
        ? {}
        : {
            arguments: [
              {
                field: 'pattern',
                name: 'pattern',
                optional: true,
                description: `text or glob (*) matched against ${engine.searchFields.join(', ')}`,
              },
            ],
          }),
      options: [
        {
          field: 'status',
          flags: '--status <status>',
          description: 'pending, in_progress, completed or aborted',
        },
        ...engine.queryFilters.map((f) => ({
          field: f.option,
          flags: `--${f.option} <value>`,
          description: f.description,
        })),
        { field: 'from', flags: '--from <date>', description: 'sealed at or after (YYYY-MM-DD or ISO time)' },
        { field: 'to', flags: '--to <date>', description: 'sealed before; a date includes that day' },
        { field: 'tag', flags: '--tag <tags...>', description: 'tags that must all be present' },
        { field: 'limit', flags: '--limit <n>', description: 'at most n (default 100)' },
      ],
    },
    async run(context, input: Record<string, unknown>) {
      const text = (v: unknown) => String(v);
      const where: WhereClause[] = [];
      if (input.status !== undefined)
        where.push({ path: 'status', value: text(input.status), text: text(input.status) });
      for (const f of engine.queryFilters) {
        const value = input[f.option];
        if (value !== undefined)
          where.push({
            path: f.field,
            value: text(value),
            text: text(value),
            contains: f.match === 'contains',
          });
      }
      return context.ledger.query(engine.scroll.name, {
        where,
        ...(input.from === undefined ? {} : { from: timeBound(text(input.from), false) }),
        ...(input.to === undefined ? {} : { to: timeBound(text(input.to), true) }),
        ...(input.tag === undefined ? {} : { tags: input.tag as string[] }),
        ...(input.pattern === undefined || engine.searchFields === undefined
          ? {}
          : { search: { fields: engine.searchFields, pattern: text(input.pattern) } }),
        limit: input.limit as number,
      });
    },
    human: (rows: Receipt[]) =>
      rows.length === 0
        ? `no sealed ${engine.runNoun}s match`
        : table([
            ['SEQ', 'SEALED', engine.runIdField.toUpperCase(), 'STATUS', 'TAGS'],
            ...rows.map((r) => [
              String(r.seq),
              r.ts,
              String(r.body[engine.runIdField]),
              String(r.body.status ?? ''),
              r.tags.join(','),
            ]),
          ]),
  });
}

/** The ISO bound of a `timeInput`: a day starts at midnight UTC, and as an end it includes that day. */
export function timeBound(value: string, end: boolean): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const start = Date.parse(`${value}T00:00:00Z`);
    return new Date(end ? start + 86_400_000 : start).toISOString();
  }
  return new Date(value).toISOString();
}

/** Everything a staged engine offers after its `plan`. */
export function runnerOperations(engine: Engine): AnyOperation[] {
  return [
    initOperation(engine),
    nextOperation(engine),
    statusOperation(engine),
    completeStageOperation(engine),
    abortOperation(engine),
    sealOperation(engine),
    queryOperation(engine),
  ];
}

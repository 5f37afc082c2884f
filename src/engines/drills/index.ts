/**
 * Drills: security drills and exercises. A prompt is routed to runbooks (`catalog/drills/`), the
 * contract's stages are worked through with the shared runner, and the sealed drill becomes a
 * `security_drill_run` receipt in the Drills scroll with its case under `cases/drills/<id>/`.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { VaultMeshError } from '../../core/errors.js';
import { drills as drillsScroll } from '../../core/scrolls/drills.js';
import { writeFileDurably } from '../../ledger/durable.js';
import { defineEngine, defineOperation, type Engine } from '../framework/engine.js';
import { initRun, validateContract } from '../framework/lifecycle.js';
import { readContractFile, runnerOperations } from '../framework/operations.js';
import { SEVERITIES, drillContractSchema, type DrillContract } from './contract.js';
import { planDrill, type DrillIntent } from './plan.js';
import type { Route } from './router.js';

type DrillsEngine = Engine<DrillContract, DrillIntent>;

function explain(route: Route): string[] {
  return [
    'why these stages:',
    ...route.stages.map((s, i) => `  ${i + 1}. ${s.skill} (${s.role}): ${s.reason}`),
    'skills considered (score):',
    `  ${route.considered.map((c) => `${c.skill} ${c.score}`).join(', ')}`,
  ];
}

function planOperation(engine: DrillsEngine) {
  return defineOperation({
    name: 'plan',
    summary: 'plan a drill from a prompt (or check a hand-written contract) and write contract.json',
    access: 'write',
    local: true,
    input: z.object({
      prompt: z.string().max(4000).optional(),
      contract: z.string().min(1).optional(),
      skill: z.array(z.string().min(1)).optional(),
      severity: z.enum(SEVERITIES).optional(),
      title: z.string().min(1).max(512).optional(),
      id: z.string().min(1).optional(),
      output: z.string().min(1).default('contract.json'),
      force: z.boolean().default(false),
      explain: z.boolean().default(false),
      init: z.boolean().default(false),
    }),
    cli: {
      arguments: [
        { field: 'prompt', name: 'prompt', optional: true, description: 'what the drill is about' },
      ],
      options: [
        {
          field: 'contract',
          flags: '--contract <file>',
          description: 'check a hand-written contract instead of planning',
        },
        {
          field: 'skill',
          flags: '--skill <skills...>',
          description: 'use these runbook skills instead of routing',
        },
        { field: 'severity', flags: '--severity <level>', description: SEVERITIES.join(', ') },
        { field: 'title', flags: '--title <text>', description: 'contract title (default: the prompt)' },
        { field: 'id', flags: '--id <drill-id>', description: 'drill id (default: drill-<unix seconds>)' },
        {
          field: 'output',
          flags: '-o, --output <file>',
          description: 'where to write the contract (default contract.json)',
        },
        { field: 'force', flags: '--force', description: 'overwrite the output file' },
        { field: 'explain', flags: '--explain', description: 'say why each stage was chosen' },
        { field: 'init', flags: '--init', description: 'also start the drill (as vm drills init)' },
      ],
    },
    async run(context, input) {
      let contract: DrillContract;
      let route: Route | undefined;
      if (input.contract !== undefined) {
        if (input.prompt !== undefined) {
          throw new VaultMeshError('INVALID_ARGUMENT', 'give either a prompt or --contract, not both', {
            hint: 'plan from a prompt, or check and use a contract you wrote with --contract FILE',
          });
        }
        contract = validateContract(engine, readContractFile(context, input.contract), input.contract);
      } else {
        if (input.prompt === undefined) {
          throw new VaultMeshError('INVALID_ARGUMENT', 'prompt: say what the drill is about', {
            hint: 'e.g. vm drills plan "IoT device bridging into OT network with weak detection"',
          });
        }
        const planned = planDrill(
          {
            prompt: input.prompt,
            ...(input.skill ? { skills: input.skill } : {}),
            ...(input.severity ? { severity: input.severity } : {}),
            ...(input.title ? { title: input.title } : {}),
          },
          { now: context.clock(), ...(input.id ? { id: input.id } : {}) },
        );
        contract = validateContract(engine, planned.contract, 'planned contract');
        route = planned.route;
        const output = resolve(context.cwd, input.output);
        if (existsSync(output) && !input.force) {
          throw new VaultMeshError('INVALID_ARGUMENT', `--output ${input.output} already exists`, {
            hint: 'choose another file with -o, or replace it with --force',
          });
        }
        writeFileDurably(output, `${JSON.stringify(contract, null, 2)}\n`);
      }
      if (input.init) initRun(context, engine, contract, input.contract ?? input.output);
      return {
        contract,
        written: input.contract === undefined ? input.output : null,
        started: input.init,
        ...(input.explain && route ? { explanation: explain(route) } : {}),
      };
    },
    human: (r) =>
      [
        `${r.written === null ? 'valid contract' : `wrote ${r.written}`}: ${r.contract.id}, ${r.contract.stages.length} stages`,
        ...r.contract.stages.map((s) => `  ${s.order}. ${s.id}: ${s.workflow} (${s.role})`),
        ...(r.explanation ?? []),
        r.started ? `started; next: vm drills next` : `next: vm drills init ${r.written ?? 'CONTRACT'}`,
      ].join('\n'),
  });
}

export const drillsEngine: DrillsEngine = defineEngine<DrillContract, DrillIntent>(
  {
    id: 'drills',
    title: 'Drills',
    description: 'security drills: plan from runbooks, run stage by stage, seal into the Drills scroll',
    scroll: drillsScroll,
    runNoun: 'drill',
    contract: drillContractSchema,
    plan: (intent, context) => planDrill(intent, context).contract,
    seal(contract, state, facts) {
      return {
        type: 'security_drill_run',
        body: {
          drill_id: contract.id,
          title: contract.title,
          prompt: contract.prompt,
          timestamp_started: state.started_at ?? state.created_at,
          ...(state.completed_at || state.aborted_at
            ? { timestamp_completed: (state.completed_at ?? state.aborted_at)! }
            : {}),
          status: state.status,
          ...(state.abort_reason === undefined ? {} : { abort_reason: state.abort_reason }),
          stages_total: state.stages.length,
          stages_completed: state.stages.filter((s) => s.status === 'completed').length,
          domains: [...new Set(contract.stages.map((s) => s.skill))],
          workflows: [...new Set(contract.stages.map((s) => s.workflow))],
          severity: contract.severity,
          root_hash: facts.manifestHash,
          proof_path: facts.proofPath,
          artifacts_manifest: facts.artifactsManifest,
        },
        tags: contract.tags.length === 0 ? ['drill'] : contract.tags,
      };
    },
    queryFilters: [
      {
        option: 'domain',
        field: 'domains',
        match: 'contains',
        description: 'a skill the drill covered, e.g. ot-ics-security',
      },
      { option: 'workflow', field: 'workflows', match: 'contains', description: 'a workflow the drill ran' },
      { option: 'severity', field: 'severity', match: 'equals', description: SEVERITIES.join(', ') },
    ],
    example: {
      intent: { prompt: 'IoT device bridging into OT network with weak detection' },
      output: { name: 'findings.md', text: '# Findings\n\nNo bridging path found from the IoT VLAN.\n' },
    },
  },
  (engine) => [planOperation(engine), ...runnerOperations(engine)],
);

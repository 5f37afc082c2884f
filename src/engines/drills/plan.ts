/** Drill planning: a prompt routed through the runbook catalog becomes a contract. */
import { VaultMeshError } from '../../core/errors.js';
import type { PlanContext } from '../framework/engine.js';
import type { DrillContract } from './contract.js';
import { routePrompt, type Route } from './router.js';
import { loadCatalog, type Catalog } from './runbook.js';

export interface DrillIntent {
  prompt: string;
  /** Force these skills instead of routing by keywords. */
  skills?: readonly string[];
  severity?: DrillContract['severity'];
  title?: string;
  catalog?: Catalog;
}

let shipped: Catalog | undefined;

/** The catalog shipped in `catalog/drills/`, read once per process. */
export function shippedCatalog(): Catalog {
  shipped ??= loadCatalog();
  return shipped;
}

export function drillId(now: Date): string {
  return `drill-${Math.floor(now.getTime() / 1000)}`;
}

export function planDrill(
  intent: DrillIntent,
  context: PlanContext,
): { contract: DrillContract; route: Route } {
  const route = routePrompt(intent.prompt, intent.catalog ?? shippedCatalog(), {
    ...(intent.skills === undefined || intent.skills.length === 0 ? {} : { skills: intent.skills }),
  });
  const prompt = intent.prompt.trim();
  const title = intent.title ?? (prompt.length <= 120 ? prompt : `${prompt.slice(0, 117)}...`);
  if (title.trim() === '') {
    throw new VaultMeshError('INVALID_ARGUMENT', 'the drill needs a title', {
      hint: 'pass --title "<text>"',
    });
  }
  const contract: DrillContract = {
    id: context.id ?? drillId(context.now),
    title,
    prompt,
    severity: intent.severity ?? 'unknown',
    sequential: true,
    created_at: context.now.toISOString(),
    objectives: route.stages.map((s) => s.workflow.objective),
    tags: [...new Set(['drill', ...route.stages.flatMap((s) => s.tags)])],
    stages: route.stages.map((s, i) => ({
      id: `stage-${i + 1}-${s.skill}`,
      order: i + 1,
      skill: s.skill,
      workflow: s.workflow.name,
      role: s.role,
      objective: s.workflow.objective,
      actions: [...s.workflow.actions],
      expected_outputs: [...s.workflow.expected_outputs],
    })),
    routing: route.stages.map((s) => ({ skill: s.skill, score: s.score, reason: s.reason })),
  };
  return { contract, route };
}

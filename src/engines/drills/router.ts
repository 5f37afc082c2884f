/**
 * Deterministic routing of a drill prompt to catalog skills and, within each skill, to one workflow.
 * Pure: the same prompt and catalog give the same route on every machine, and the route explains itself.
 */
import { VaultMeshError } from '../../core/errors.js';
import type { Catalog, Runbook, Workflow } from './runbook.js';

export interface KeywordHit {
  term: string;
  weight: number;
}

export interface RoutedStage {
  skill: string;
  skillTitle: string;
  phase: number;
  tags: readonly string[];
  score: number;
  /** Skill keywords that matched, in catalog order. */
  matched: readonly KeywordHit[];
  role: 'primary' | 'supporting';
  /** The chosen workflow, the object held by the catalog. */
  workflow: Workflow;
  workflowScore: number;
  workflowMatched: readonly KeywordHit[];
  /** One sentence saying why this skill and this workflow were chosen. */
  reason: string;
}

export interface RouteOptions {
  /** Lowest skill score that routes a skill; default 2. */
  minScore?: number;
  /** Most skills chosen from keywords; default 5. Does not limit `skills`. */
  maxStages?: number;
  /** Use exactly these skills, the first as primary, whatever the prompt matches. */
  skills?: readonly string[];
}

export interface ConsideredSkill {
  skill: string;
  score: number;
  matched: readonly KeywordHit[];
}

export interface Route {
  prompt: string;
  stages: readonly RoutedStage[];
  /** Every skill of the catalog, by score descending then skill id. */
  considered: readonly ConsideredSkill[];
}

const MAX_PROMPT_CHARS = 4000;
const DEFAULT_MIN_SCORE = 2;
const DEFAULT_MAX_STAGES = 5;

/** Lower-case words of letters and digits, after NFKC so that full-width and compatibility forms match. */
export function tokenize(prompt: string): string[] {
  return prompt
    .normalize('NFKC')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((token) => token.length > 0);
}

class PromptIndex {
  private readonly words: ReadonlySet<string>;

  constructor(private readonly tokens: readonly string[]) {
    this.words = new Set(tokens);
  }

  matches(term: string): boolean {
    const wanted = tokenize(term);
    const [only] = wanted;
    if (only === undefined) return false;
    if (wanted.length === 1) {
      return this.words.has(only) || this.words.has(`${only}s`) || this.words.has(`${only}es`);
    }
    for (let start = 0; start + wanted.length <= this.tokens.length; start++) {
      if (wanted.every((token, i) => this.tokens[start + i] === token)) return true;
    }
    return false;
  }

  score(keywords: Readonly<Record<string, number>>): { score: number; matched: KeywordHit[] } {
    const matched = Object.entries(keywords)
      .filter(([term]) => this.matches(term))
      .map(([term, weight]) => ({ term, weight }));
    return { score: matched.reduce((sum, hit) => sum + hit.weight, 0), matched };
  }
}

interface Scored extends ConsideredSkill {
  runbook: Runbook;
}

const hits = (matched: readonly KeywordHit[]): string =>
  matched.map((hit) => `"${hit.term}" (${hit.weight})`).join(', ');

function chooseWorkflow(runbook: Runbook, index: PromptIndex) {
  let best = { workflow: runbook.workflows[0]!, ...index.score(runbook.workflows[0]!.keywords) };
  for (const workflow of runbook.workflows.slice(1)) {
    const candidate = { workflow, ...index.score(workflow.keywords) };
    // Strictly greater: on a tie the earlier workflow in the file wins.
    if (candidate.score > best.score) best = candidate;
  }
  const why =
    best.score === 0
      ? `workflow "${best.workflow.name}" is the skill default (no workflow keyword matched)`
      : `workflow "${best.workflow.name}" matched ${hits(best.matched)}`;
  return { ...best, why };
}

function stageOf(scored: Scored, role: RoutedStage['role'], why: string, index: PromptIndex): RoutedStage {
  const { runbook } = scored;
  const chosen = chooseWorkflow(runbook, index);
  return {
    skill: runbook.skill,
    skillTitle: runbook.title,
    phase: runbook.phase,
    tags: runbook.tags,
    score: scored.score,
    matched: scored.matched,
    role,
    workflow: chosen.workflow,
    workflowScore: chosen.score,
    workflowMatched: chosen.matched,
    reason: `${why}; ${chosen.why}`,
  };
}

// Code-unit order: localeCompare would make the route depend on the machine's locale.
const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byStrength = (a: Scored, b: Scored): number =>
  b.score - a.score || a.runbook.phase - b.runbook.phase || compareIds(a.skill, b.skill);
const byRunOrder = (a: RoutedStage, b: RoutedStage): number =>
  a.phase - b.phase || b.score - a.score || compareIds(a.skill, b.skill);

function positiveInteger(value: number | undefined, fallback: number, label: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new VaultMeshError('INVALID_ARGUMENT', `${label} must be a positive integer, got ${value}`);
  }
  return value;
}

function knownSkills(catalog: Catalog): string {
  return catalog.runbooks
    .map((r) => r.skill)
    .sort(compareIds)
    .join(', ');
}

function forcedStages(
  ids: readonly string[],
  scored: readonly Scored[],
  catalog: Catalog,
  index: PromptIndex,
) {
  if (ids.length === 0) {
    throw new VaultMeshError('INVALID_ARGUMENT', 'the list of requested skills is empty', {
      hint: `name at least one skill; known skills: ${knownSkills(catalog)}`,
    });
  }
  const unique = [...new Set(ids)];
  return unique.map((id, i) => {
    const found = scored.find((s) => s.skill === id);
    if (found === undefined) {
      throw new VaultMeshError('NO_ROUTE', `no runbook for the requested skill "${id}"`, {
        hint: `choose skills from the catalog; known skills: ${knownSkills(catalog)}`,
        evidence: { skill: id },
      });
    }
    const why =
      found.score === 0
        ? 'requested with --skill'
        : `requested with --skill (matched ${hits(found.matched)})`;
    return stageOf(found, i === 0 ? 'primary' : 'supporting', why, index);
  });
}

/**
 * Routes `prompt` to the skills whose keywords it matches and picks a workflow in each.
 * @throws VaultMeshError INVALID_ARGUMENT for an empty or over-long prompt or a bad option, NO_ROUTE when no
 *   skill reaches `minScore` or a requested skill is not in the catalog.
 */
export function routePrompt(prompt: string, catalog: Catalog, options: RouteOptions = {}): Route {
  if (prompt.trim() === '') {
    throw new VaultMeshError('INVALID_ARGUMENT', 'the drill prompt is empty', {
      hint: 'describe the scenario, e.g. "IoT device bridging into OT network with weak detection"',
    });
  }
  if (prompt.length > MAX_PROMPT_CHARS) {
    throw new VaultMeshError(
      'INVALID_ARGUMENT',
      `the drill prompt is ${prompt.length} characters; the limit is ${MAX_PROMPT_CHARS}`,
      { hint: 'describe the scenario in a few sentences', evidence: { length: prompt.length } },
    );
  }
  const minScore = positiveInteger(options.minScore, DEFAULT_MIN_SCORE, 'minScore');
  const maxStages = positiveInteger(options.maxStages, DEFAULT_MAX_STAGES, 'maxStages');

  const index = new PromptIndex(tokenize(prompt));
  const scored: Scored[] = catalog.runbooks.map((runbook) => ({
    runbook,
    skill: runbook.skill,
    ...index.score(runbook.keywords),
  }));
  const considered = [...scored]
    .sort((a, b) => b.score - a.score || compareIds(a.skill, b.skill))
    .map(({ skill, score, matched }) => ({ skill, score, matched }));

  if (options.skills !== undefined) {
    const stages = forcedStages(options.skills, scored, catalog, index).sort(byRunOrder);
    return { prompt, stages, considered };
  }

  const chosen = scored
    .filter((s) => s.score >= minScore)
    .sort(byStrength)
    .slice(0, maxStages);
  if (chosen.length === 0) {
    throw new VaultMeshError('NO_ROUTE', `no runbook matches the prompt "${prompt}"`, {
      hint:
        'name the systems involved (e.g. iot, kubernetes, phishing) or choose skills with --skill <id,...>; ' +
        `known skills: ${knownSkills(catalog)}`,
      evidence: { considered: considered.slice(0, 3) },
    });
  }
  const stages = chosen
    .map((s, i) =>
      stageOf(
        s,
        i === 0 ? 'primary' : 'supporting',
        `matched ${hits(s.matched)} = ${s.score} ≥ ${minScore}`,
        index,
      ),
    )
    .sort(byRunOrder);
  return { prompt, stages, considered };
}

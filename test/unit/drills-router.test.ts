import { describe, expect, it } from 'vitest';
import { routePrompt, tokenize, type Route } from '../../src/engines/drills/router.js';
import { catalogFrom, loadCatalog, type Runbook } from '../../src/engines/drills/runbook.js';
import { codeOf, errorOf } from '../helpers/errors.js';

function runbook(
  skill: string,
  phase: number,
  keywords: Record<string, number>,
  workflows?: Runbook['workflows'],
) {
  return {
    skill,
    title: `${skill} title`,
    phase,
    tags: [skill],
    keywords,
    workflows: workflows ?? [
      {
        name: `${skill} default`,
        keywords: {},
        objective: 'objective',
        actions: ['act'],
        expected_outputs: ['findings.md'],
      },
    ],
  } satisfies Runbook;
}

const workflow = (name: string, keywords: Record<string, number>) => ({
  name,
  keywords,
  objective: `${name} objective`,
  actions: ['act'],
  expected_outputs: ['findings.md'],
});

const small = catalogFrom([
  runbook('alpha', 30, { alpha: 3, 'smart device': 2, box: 1, 'ot-ics': 2 }, [
    workflow('Alpha Recon', { recon: 2 }),
    workflow('Alpha Firmware', { firmware: 2, uart: 1 }),
    workflow('Alpha Radio', { firmware: 1, radio: 2 }),
  ]),
  runbook('beta', 10, { beta: 3, shared: 2 }),
  runbook('gamma', 10, { gamma: 3, shared: 2 }),
  runbook('delta', 50, { delta: 2 }),
]);

const skills = (route: Route) => route.stages.map((s) => s.skill);
const primary = (route: Route) => route.stages.find((s) => s.role === 'primary')?.skill;

describe('tokenize', () => {
  it('lower-cases, applies NFKC and splits on anything not a letter or digit', () => {
    expect(tokenize('  IoT-device, bridging→OT  network!! ')).toEqual([
      'iot',
      'device',
      'bridging',
      'ot',
      'network',
    ]);
    expect(tokenize('ＳＣＡＤＡ ｐｌｃ')).toEqual(['scada', 'plc']);
    expect(tokenize('Über Straße 802.11ac')).toEqual(['über', 'straße', '802', '11ac']);
    expect(tokenize('—…')).toEqual([]);
  });
});

describe('keyword matching', () => {
  it('matches phrases only as contiguous tokens, hyphenated terms like spaced ones', () => {
    expect(routePrompt('a Smart-Device here', small).considered[0]).toEqual({
      skill: 'alpha',
      score: 2,
      matched: [{ term: 'smart device', weight: 2 }],
    });
    expect(routePrompt('the OT ICS alpha', small).stages[0]!.matched).toEqual([
      { term: 'alpha', weight: 3 },
      { term: 'ot-ics', weight: 2 },
    ]);
    expect(codeOf(() => routePrompt('smart and device', small))).toBe('NO_ROUTE');
  });

  it('matches simple plurals of single words, not of phrases', () => {
    expect(routePrompt('alphas', small).stages[0]!.score).toBe(3);
    expect(routePrompt('alpha boxes', small).stages[0]!.score).toBe(4);
    expect(routePrompt('alpha smart devices', small).stages[0]!.score).toBe(3);
    expect(codeOf(() => routePrompt('alphabet', small))).toBe('NO_ROUTE');
  });

  it('counts each keyword once, in catalog order', () => {
    const stage = routePrompt('box alpha box alpha alphas', small).stages[0]!;
    expect(stage.score).toBe(4);
    expect(stage.matched).toEqual([
      { term: 'alpha', weight: 3 },
      { term: 'box', weight: 1 },
    ]);
  });
});

describe('skill choice, order and roles', () => {
  it('orders stages by phase and makes the best score primary', () => {
    const route = routePrompt('delta alpha box beta', small);
    expect(skills(route)).toEqual(['beta', 'alpha', 'delta']);
    expect(route.stages.map((s) => s.role)).toEqual(['supporting', 'primary', 'supporting']);
    expect(route.stages[1]!.reason).toBe(
      'matched "alpha" (3), "box" (1) = 4 ≥ 2; workflow "Alpha Recon" is the skill default (no workflow keyword matched)',
    );
  });

  it('breaks score ties by lower phase, then skill id', () => {
    const byPhase = routePrompt('delta smart device', small);
    expect(skills(byPhase)).toEqual(['alpha', 'delta']);
    expect(primary(byPhase)).toBe('alpha');
    const byId = routePrompt('shared', small);
    expect(skills(byId)).toEqual(['beta', 'gamma']);
    expect(primary(byId)).toBe('beta');
    expect(skills(routePrompt('gamma beta alpha', small, { maxStages: 2 }))).toEqual(['beta', 'gamma']);
  });

  it('keeps only skills reaching minScore, at most maxStages of them by strength', () => {
    expect(skills(routePrompt('box delta', small))).toEqual(['delta']);
    expect(skills(routePrompt('alpha beta delta', small, { minScore: 3 }))).toEqual(['beta', 'alpha']);
    // The strongest two survive, then run in phase order.
    expect(skills(routePrompt('alpha box gamma delta', small, { maxStages: 2 }))).toEqual(['gamma', 'alpha']);
    expect(codeOf(() => routePrompt('alpha', small, { minScore: 0 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => routePrompt('alpha', small, { maxStages: 1.5 }))).toBe('INVALID_ARGUMENT');
  });

  it('lists every skill as considered, by score then id', () => {
    expect(routePrompt('gamma box', small).considered).toEqual([
      { skill: 'gamma', score: 3, matched: [{ term: 'gamma', weight: 3 }] },
      { skill: 'alpha', score: 1, matched: [{ term: 'box', weight: 1 }] },
      { skill: 'beta', score: 0, matched: [] },
      { skill: 'delta', score: 0, matched: [] },
    ]);
  });
});

describe('workflow choice', () => {
  it('takes the best-scoring workflow, the earlier one on a tie, the first when none matches', () => {
    const pick = (prompt: string) => routePrompt(prompt, small).stages[0]!;
    expect(pick('alpha firmware').workflow.name).toBe('Alpha Firmware');
    expect(pick('alpha firmware radio').workflow.name).toBe('Alpha Radio');
    expect(pick('alpha radio').reason).toBe(
      'matched "alpha" (3) = 3 ≥ 2; workflow "Alpha Radio" matched "radio" (2)',
    );
    expect(pick('alpha recon uart').workflow.name).toBe('Alpha Recon');
    expect(pick('alpha uart firmware').workflow.name).toBe('Alpha Firmware');
    expect(pick('alpha firmware recon').workflow.name).toBe('Alpha Recon');
    const fallback = pick('alpha');
    expect(fallback.workflow).toBe(small.runbooks[0]!.workflows[0]);
    expect(fallback.workflowScore).toBe(0);
    expect(fallback.workflowMatched).toEqual([]);
  });
});

describe('requested skills', () => {
  it('uses exactly the requested skills, the first as primary, in phase order', () => {
    const route = routePrompt('firmware on a beta', small, { skills: ['alpha', 'delta', 'gamma', 'alpha'] });
    expect(skills(route)).toEqual(['gamma', 'alpha', 'delta']);
    expect(primary(route)).toBe('alpha');
    expect(route.stages.every((s) => s.reason.startsWith('requested with --skill'))).toBe(true);
    expect(route.stages[1]!.workflow.name).toBe('Alpha Firmware');
    expect(route.stages[0]!.score).toBe(0);
  });

  it('refuses an unknown skill naming the known ones, and an empty list', () => {
    const e = errorOf(() => routePrompt('alpha', small, { skills: ['alpha', 'omega'] }));
    expect(e.code).toBe('NO_ROUTE');
    expect(e.message).toContain('"omega"');
    expect(e.hint).toContain('alpha, beta, delta, gamma');
    expect(codeOf(() => routePrompt('alpha', small, { skills: [] }))).toBe('INVALID_ARGUMENT');
  });
});

describe('refusals', () => {
  it('refuses a prompt no skill matches, with the closest skills as evidence', () => {
    const e = errorOf(() => routePrompt('a box of delights', small));
    expect(e.code).toBe('NO_ROUTE');
    expect(e.message).toBe('no runbook matches the prompt "a box of delights"');
    expect(e.hint).toContain('--skill');
    expect(e.evidence).toEqual({
      considered: [
        { skill: 'alpha', score: 1, matched: [{ term: 'box', weight: 1 }] },
        { skill: 'beta', score: 0, matched: [] },
        { skill: 'delta', score: 0, matched: [] },
      ],
    });
  });

  it('refuses empty, blank and over-long prompts', () => {
    expect(codeOf(() => routePrompt('', small))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => routePrompt(' \n\t ', small))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => routePrompt(`alpha ${'x'.repeat(3995)}`, small))).toBe('INVALID_ARGUMENT');
    expect(routePrompt(`alpha ${'x'.repeat(3994)}`, small).stages).toHaveLength(1);
  });
});

describe('the shipped catalog', () => {
  const catalog = loadCatalog();
  const route = (prompt: string) => {
    const r = routePrompt(prompt, catalog);
    return r.stages.map((s) => [s.skill, s.role, s.workflow.name]);
  };

  it('routes an IoT-to-OT bridging prompt through iot, ot and detection, not network', () => {
    expect(route('IoT device bridging into OT network with weak detection')).toEqual([
      ['iot-wireless-security', 'primary', 'IoT Segmentation and Bridging Review'],
      ['ot-ics-security', 'supporting', 'IT/OT Boundary and Segmentation Review'],
      ['detection-defense-ir', 'supporting', 'Detection Coverage Gap Analysis'],
    ]);
  });

  it('routes phishing that led to stolen credentials through email, then identity', () => {
    expect(route('phishing email led to stolen Okta credentials')).toEqual([
      ['email-phishing', 'primary', 'Phishing Triage and Scoping'],
      ['identity-access', 'supporting', 'Compromised Account Response'],
    ]);
  });

  it('routes an exposed dashboard in EKS to kubernetes with cloud support', () => {
    expect(route('exposed kubernetes dashboard in our EKS cluster')).toEqual([
      ['cloud-security', 'supporting', 'Managed Kubernetes Cloud Integration Review'],
      ['kubernetes-security', 'primary', 'Cluster Exposure and Configuration Review'],
    ]);
  });

  it('routes SQL injection to web application testing', () => {
    expect(route('SQL injection in the customer web portal')).toEqual([
      ['web-app-security', 'primary', 'Injection and Input Handling Testing'],
    ]);
  });

  it('routes a compromised npm dependency to supply chain response', () => {
    expect(route('compromised npm dependency in CI pipeline')).toEqual([
      ['supply-chain-ci', 'primary', 'Compromised Dependency Response'],
    ]);
  });

  it('does not mistake CIS benchmarks for CI', () => {
    expect(route('CIS benchmark for our kubernetes nodes').map(([skill]) => skill)).toEqual([
      'kubernetes-security',
    ]);
  });

  it('gives the same route for the same prompt', () => {
    const prompt = 'ransomware spread from a phished laptop to the SCADA historian over VPN';
    expect(routePrompt(prompt, loadCatalog())).toEqual(routePrompt(prompt, catalog));
  });
});

import fc from 'fast-check';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VaultMeshError } from '../../src/core/errors.js';
import { routePrompt, tokenize, type Route } from '../../src/engines/drills/router.js';
import {
  catalogFrom,
  loadCatalog,
  parseRunbook,
  shippedCatalogDir,
  type Runbook,
} from '../../src/engines/drills/runbook.js';
import { codeOf, errorOf } from '../helpers/errors.js';

const shipped = loadCatalog();
const iotText = readFileSync(join(shippedCatalogDir(), 'iot-wireless-security.yaml'), 'utf8');

const scratch: string[] = [];
afterAll(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function catalogDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'vaultmesh-drills-'));
  scratch.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('the shipped catalog', () => {
  it('loads every runbook, one file per skill named after it', () => {
    const files = readdirSync(shippedCatalogDir()).filter((f) => f.endsWith('.yaml'));
    expect(shipped.runbooks.map((r) => `${r.skill}.yaml`)).toEqual(files.sort());
    expect(shipped.runbooks.map((r) => r.skill)).toEqual(
      expect.arrayContaining([
        'iot-wireless-security',
        'ot-ics-security',
        'detection-defense-ir',
        'cloud-security',
        'kubernetes-security',
        'web-app-security',
        'identity-access',
        'network-infrastructure',
        'email-phishing',
        'supply-chain-ci',
      ]),
    );
  });

  it('keeps runbooks to the size an operator can run in one stage', () => {
    for (const runbook of shipped.runbooks) {
      expect(runbook.workflows.length, runbook.skill).toBeGreaterThanOrEqual(2);
      expect(runbook.workflows.length, runbook.skill).toBeLessThanOrEqual(4);
      for (const workflow of runbook.workflows) {
        expect(workflow.actions.length, workflow.name).toBeGreaterThanOrEqual(3);
        expect(workflow.actions.length, workflow.name).toBeLessThanOrEqual(7);
        expect(workflow.expected_outputs.length, workflow.name).toBeGreaterThanOrEqual(2);
        expect(workflow.expected_outputs.length, workflow.name).toBeLessThanOrEqual(5);
        expect(Object.keys(workflow.keywords).length, workflow.name).toBeGreaterThan(0);
      }
    }
  });

  it('runs detection and response after every other skill', () => {
    const last = Math.max(...shipped.runbooks.map((r) => r.phase));
    expect(shipped.runbooks.filter((r) => r.phase === last).map((r) => r.skill)).toEqual([
      'detection-defense-ir',
    ]);
  });

  it('lists no keyword that another keyword of the same map already matches as its plural', () => {
    // Both would count for the one word, doubling its weight by accident. Phrases get no automatic plural.
    const maps = shipped.runbooks.flatMap((r) => [r.keywords, ...r.workflows.map((w) => w.keywords)]);
    for (const keywords of maps) {
      const terms = Object.keys(keywords);
      for (const term of terms.filter((t) => tokenize(t).length === 1)) {
        expect(terms, term).not.toContain(`${term}s`);
        expect(terms, term).not.toContain(`${term}es`);
      }
    }
  });
});

describe('parseRunbook', () => {
  it('names the file and the field of a bad value', () => {
    const bad = iotText.replace(/^ {2}iot: 3$/m, '  iot: 4');
    const e = errorOf(() => parseRunbook(bad, 'catalog/drills/iot.yaml'));
    expect(e.code).toBe('INVALID_RUNBOOK');
    expect(e.message).toMatch(/^catalog\/drills\/iot\.yaml: keywords\.iot: /);
    expect(e.evidence).toEqual({ file: 'catalog/drills/iot.yaml', field: 'keywords.iot' });
  });

  it('refuses unknown keys, path-like outputs, upper-case keywords, bad ids and YAML errors', () => {
    const cases: Array<[string, RegExp]> = [
      [iotText.replace('phase: 10', 'phase: 10\nowner: me'), /: \(top level\): .*owner/],
      [iotText.replace('findings.md]', '../findings.md]'), /: workflows\.0\.expected_outputs\.3: /],
      [iotText.replace('exposure.csv', '..'), /: workflows\.0\.expected_outputs\.2: /],
      [iotText.replace('  iot: 3', '  IoT: 3'), /: keywords\.IoT: keywords are written in lower case$/],
      [iotText.replace('  iot: 3', '  "smart  device": 3'), /: keywords\.smart {2}device: /],
      [iotText.replace('skill: iot-wireless-security', 'skill: IoT'), /: skill: /],
      ['skill: ab\ntitle: t\nphase: 1\ntags: [a]\nkeywords: { a: 1 }\nworkflows: []\n', /: workflows: /],
      [iotText.replace('  iot: 3', '  iot: 3\n  iot: 2'), /not valid YAML/],
      [`${iotText}\n---\nskill: again\n`, /not valid YAML/],
      ['', /: \(top level\): /],
    ];
    for (const [text, message] of cases) {
      const e = errorOf(() => parseRunbook(text, 'x.yaml'));
      expect(e.code).toBe('INVALID_RUNBOOK');
      expect(e.message).toMatch(/^x\.yaml: /);
      expect(e.message).toMatch(message);
    }
  });

  it('refuses a workflow name used twice in one runbook', () => {
    const twice = iotText.replace(
      'Wireless Attack Surface Assessment',
      'IoT Device Recon and Fingerprinting',
    );
    expect(errorOf(() => parseRunbook(twice, 'x.yaml')).message).toMatch(/^x\.yaml: workflows\.1\.name: /);
  });
});

describe('loadCatalog', () => {
  it('loads *.yaml files in file-name order and ignores other files', () => {
    const other = iotText.replace('skill: iot-wireless-security', 'skill: aaa-other');
    const catalog = loadCatalog(
      catalogDir({ 'b.yaml': iotText, 'a.yaml': other, 'notes.md': '# not a runbook' }),
    );
    expect(catalog.runbooks.map((r) => r.skill)).toEqual(['aaa-other', 'iot-wireless-security']);
  });

  it('names the file of a bad runbook', () => {
    const dir = catalogDir({ 'iot.yaml': iotText.replace('phase: 10', 'phase: ten') });
    const e = errorOf(() => loadCatalog(dir));
    expect(e.code).toBe('INVALID_RUNBOOK');
    expect(e.message.startsWith(`${join(dir, 'iot.yaml')}: phase: `)).toBe(true);
  });

  it('refuses a skill defined twice, naming both files', () => {
    const dir = catalogDir({ 'one.yaml': iotText, 'two.yaml': iotText });
    const e = errorOf(() => loadCatalog(dir));
    expect(e.code).toBe('INVALID_RUNBOOK');
    expect(e.message).toContain(join(dir, 'one.yaml'));
    expect(e.message).toContain(join(dir, 'two.yaml'));
    const iot = shipped.runbooks.find((r) => r.skill === 'iot-wireless-security')!;
    expect(errorOf(() => catalogFrom([iot, iot])).message).toBe(
      'runbooks[1]: skill: iot-wireless-security is already defined in runbooks[0]',
    );
  });

  it('refuses a missing directory and one without runbooks', () => {
    expect(codeOf(() => loadCatalog(join(tmpdir(), 'vaultmesh-no-such-catalog')))).toBe('FILE_MISSING');
    expect(codeOf(() => loadCatalog(catalogDir({ 'readme.txt': 'no runbooks' })))).toBe('FILE_MISSING');
  });

  it('validates runbooks built in memory', () => {
    const iot = shipped.runbooks.find((r) => r.skill === 'iot-wireless-security')!;
    const broken = { ...iot, keywords: { iot: 0 } } as Runbook;
    expect(errorOf(() => catalogFrom([iot, broken])).message).toMatch(/^runbooks\[1\]: keywords\.iot: /);
  });
});

describe('routing arbitrary prompts', () => {
  const terms = shipped.runbooks.flatMap((r) => [
    ...Object.keys(r.keywords),
    ...r.workflows.flatMap((w) => Object.keys(w.keywords)),
  ]);
  const prompt = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc
      .array(fc.oneof(fc.constantFrom(...terms), fc.string({ maxLength: 8 })), { maxLength: 30 })
      .map((words) => words.join(' ')),
    fc.constantFrom('', ' \t', 'x'.repeat(4001)),
  );

  it('either routes to sorted stages that reach minScore, or refuses with NO_ROUTE or INVALID_ARGUMENT', () => {
    fc.assert(
      fc.property(
        prompt,
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        (text, minScore, maxStages) => {
          let route: Route;
          try {
            route = routePrompt(text, shipped, { minScore, maxStages });
          } catch (e) {
            expect(e).toBeInstanceOf(VaultMeshError);
            expect(['NO_ROUTE', 'INVALID_ARGUMENT']).toContain((e as VaultMeshError).code);
            return;
          }
          expect(route.stages.length).toBeGreaterThan(0);
          expect(route.stages.length).toBeLessThanOrEqual(maxStages);
          expect(route.stages.filter((s) => s.role === 'primary')).toHaveLength(1);
          for (const [i, stage] of route.stages.entries()) {
            expect(stage.score).toBeGreaterThanOrEqual(minScore);
            expect(stage.phase).toBeGreaterThanOrEqual(route.stages[i - 1]?.phase ?? -Infinity);
          }
          expect(route.considered).toHaveLength(shipped.runbooks.length);
          expect(routePrompt(text, shipped, { minScore, maxStages })).toEqual(route);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('matches every catalog keyword when the prompt is exactly that keyword', () => {
    for (const term of terms) expect(tokenize(term).length, term).toBeGreaterThan(0);
    for (const runbook of shipped.runbooks) {
      for (const [term, weight] of Object.entries(runbook.keywords)) {
        const considered = routePrompt(term, shipped, { minScore: 1 }).considered;
        expect(considered.find((c) => c.skill === runbook.skill)?.matched, term).toContainEqual({
          term,
          weight,
        });
      }
    }
  });
});

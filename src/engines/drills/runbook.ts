/**
 * The runbook catalog: one YAML file per security skill, each with the keywords that route a prompt to it and
 * the workflows (objective, operator actions, expected output files) a drill stage runs.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { VaultMeshError } from '../../core/errors.js';

/** Runbooks are small hand-written files; anything bigger is a mistake or hostile. */
const MAX_RUNBOOK_CHARS = 256 * 1024;

/**
 * Words of letters and digits joined by single spaces or `-`, `.`, `/`, already in the form the router
 * compares (NFKC, lower case), so that a term written in the catalog is the term that matches.
 */
const keywordTerm = z
  .string()
  .max(64)
  .regex(
    /^[\p{L}\p{N}]+(?:[ ./-][\p{L}\p{N}]+)*$/u,
    'expected words of letters and digits, e.g. "iot" or "smart device"',
  )
  .refine((term) => term === term.normalize('NFKC').toLowerCase(), 'keywords are written in lower case');

const keywordWeights = z.record(keywordTerm, z.number().int().min(1).max(3));

const fileName = z
  .string()
  .max(128)
  .regex(/^[A-Za-z0-9._-]+$/, 'expected a plain file name such as findings.md')
  .refine((name) => name !== '.' && name !== '..', 'expected a plain file name such as findings.md');

const workflowSchema = z.strictObject({
  name: z.string().trim().min(1).max(120),
  keywords: keywordWeights,
  objective: z.string().trim().min(1).max(1000),
  actions: z.array(z.string().trim().min(1).max(1000)).min(1).max(20),
  expected_outputs: z.array(fileName).min(1).max(20),
});

export const runbookSchema = z
  .strictObject({
    skill: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,63}$/, 'expected a lower-case id such as iot-wireless-security'),
    title: z.string().trim().min(1).max(120),
    phase: z.number().int().min(0).max(999),
    tags: z
      .array(z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'expected a short lower-case tag such as iot'))
      .min(1)
      .max(10),
    keywords: keywordWeights.refine((k) => Object.keys(k).length > 0, 'a skill needs at least one keyword'),
    workflows: z.array(workflowSchema).min(1).max(10),
  })
  .superRefine((runbook, ctx) => {
    // Names identify a workflow in contracts and receipts; output files are written side by side.
    const names = new Set<string>();
    runbook.workflows.forEach((workflow, i) => {
      if (names.has(workflow.name)) {
        ctx.addIssue({ code: 'custom', path: ['workflows', i, 'name'], message: 'duplicate workflow name' });
      }
      names.add(workflow.name);
      const outputs = new Set<string>();
      workflow.expected_outputs.forEach((output, j) => {
        if (outputs.has(output)) {
          ctx.addIssue({
            code: 'custom',
            path: ['workflows', i, 'expected_outputs', j],
            message: `duplicate output ${output}`,
          });
        }
        outputs.add(output);
      });
    });
  });

export type Runbook = z.infer<typeof runbookSchema>;
export type Workflow = Runbook['workflows'][number];

export interface Catalog {
  readonly runbooks: readonly Runbook[];
}

const RUNBOOK_HINT = 'fix the runbook file; every catalog/drills/*.yaml follows the same shape';

function validate(raw: unknown, source: string): Runbook {
  const parsed = runbookSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length === 0 ? '(top level)' : issue.path.join('.');
    // A bad keyword is reported as "Invalid key in record"; the reason is in the nested issue.
    const message =
      issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    throw new VaultMeshError('INVALID_RUNBOOK', `${source}: ${field}: ${message}`, {
      hint: RUNBOOK_HINT,
      evidence: { file: source, field },
    });
  }
  return parsed.data;
}

/** @throws VaultMeshError INVALID_RUNBOOK naming `source` and the offending field. */
export function parseRunbook(text: string, source: string): Runbook {
  if (text.length > MAX_RUNBOOK_CHARS) {
    throw new VaultMeshError('INVALID_RUNBOOK', `${source}: larger than ${MAX_RUNBOOK_CHARS} characters`, {
      hint: RUNBOOK_HINT,
      evidence: { file: source, size: text.length },
    });
  }
  let raw: unknown;
  try {
    // 'error' keeps YAML warnings off stderr while still throwing on errors (duplicate keys, many documents).
    raw = parse(text, { logLevel: 'error' });
  } catch (cause) {
    throw new VaultMeshError('INVALID_RUNBOOK', `${source}: not valid YAML: ${(cause as Error).message}`, {
      cause,
      hint: RUNBOOK_HINT,
      evidence: { file: source },
    });
  }
  return validate(raw, source);
}

/** Pairs each runbook with where it came from, so a duplicate names both places. */
function assemble(entries: ReadonlyArray<{ runbook: Runbook; source: string }>): Catalog {
  const seen = new Map<string, string>();
  for (const { runbook, source } of entries) {
    const first = seen.get(runbook.skill);
    if (first !== undefined) {
      throw new VaultMeshError(
        'INVALID_RUNBOOK',
        `${source}: skill: ${runbook.skill} is already defined in ${first}`,
        {
          hint: 'give each runbook its own skill id',
          evidence: { skill: runbook.skill, files: [first, source] },
        },
      );
    }
    seen.set(runbook.skill, source);
  }
  return { runbooks: entries.map((e) => e.runbook) };
}

/**
 * A catalog from runbooks built in memory; each is validated like a file would be.
 * @throws VaultMeshError INVALID_RUNBOOK for an invalid runbook or a skill id used twice.
 */
export function catalogFrom(runbooks: readonly Runbook[]): Catalog {
  return assemble(
    runbooks.map((runbook, i) => {
      const source = `runbooks[${i}]`;
      return { runbook: validate(runbook, source), source };
    }),
  );
}

/** The catalog shipped with VaultMesh; `../../../` is the package root from both src/ and dist/. */
export const shippedCatalogDir = (): string =>
  fileURLToPath(new URL('../../../catalog/drills/', import.meta.url));

/**
 * Every `*.yaml` in `dir`, in file-name order.
 * @throws VaultMeshError FILE_MISSING when `dir` is missing or holds no runbook, IO_ERROR when a file cannot
 *   be read, INVALID_RUNBOOK for an invalid file or a skill id defined twice.
 */
export function loadCatalog(dir: string = shippedCatalogDir()): Catalog {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.yaml'));
  } catch (cause) {
    throw new VaultMeshError('FILE_MISSING', `cannot read the runbook directory ${dir}`, {
      cause,
      hint: 'point at a directory of runbook *.yaml files, such as catalog/drills in the VaultMesh package',
      evidence: { dir },
    });
  }
  if (names.length === 0) {
    throw new VaultMeshError('FILE_MISSING', `no runbook (*.yaml) in ${dir}`, {
      hint: 'point at a directory of runbook *.yaml files, such as catalog/drills in the VaultMesh package',
      evidence: { dir },
    });
  }
  // Code-unit order, not locale order, so every machine loads the same catalog.
  names.sort();
  return assemble(
    names.map((name) => {
      const source = join(dir, name);
      let text: string;
      try {
        text = readFileSync(source, 'utf8');
      } catch (cause) {
        throw new VaultMeshError('IO_ERROR', `cannot read the runbook ${source}`, {
          cause,
          evidence: { file: source },
        });
      }
      return { runbook: parseRunbook(text, source), source };
    }),
  );
}

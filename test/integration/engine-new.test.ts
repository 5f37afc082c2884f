/**
 * `vm engine new` end to end: the real CLI scaffolds an engine into a copy of this checkout, and the
 * copy then type-checks, builds, passes the design gate, runs the generated test and is clean under
 * eslint and prettier. Refusals (an existing engine, a bad name, a directory that is no checkout)
 * must leave the copy untouched.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import * as prettier from 'prettier';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFiles, engineNames } from '../../src/engines/framework/scaffold.js';
import {
  REPO,
  assertBuilt,
  jsonError,
  makeTempDir,
  snapshotDataDir,
  vm,
  type VmResult,
} from '../helpers/vm.js';

assertBuilt();

/** What the copy needs to type-check, build, lint and test; node_modules is linked, not copied. */
const CHECKOUT = [
  'src',
  'test',
  'packages',
  'catalog',
  'bin',
  'package.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'eslint.config.js',
  'vitest.config.ts',
  '.prettierrc.json',
  '.prettierignore',
];
const CREATED = [
  'src/core/scrolls/incidents.ts',
  'src/engines/incidents/contract.ts',
  'src/engines/incidents/index.ts',
  'test/engines/incidents.test.ts',
];
const UPDATED = ['src/core/scrolls/index.ts', 'src/engines/registry.ts'];
const SLOW = 240_000;

// The nested vitest must not take this run's worker variables for its own.
const toolEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST'))),
  NO_COLOR: '1',
};

/** Runs a dev tool of the checkout from its node_modules/.bin (as npx would, minus any registry lookup). */
function tool(cwd: string, command: string, args: readonly string[]): VmResult {
  const result = spawnSync(join(cwd, 'node_modules/.bin', command), args, {
    cwd,
    encoding: 'utf8',
    env: toolEnv,
    timeout: SLOW,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error !== undefined) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

const output = (r: VmResult): string => `exit ${r.status}\n${r.stdout}\n${r.stderr}`;

describe('vm engine new', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let copy: string;
  let created: VmResult;
  const before: Record<string, string> = {};

  beforeAll(() => {
    tmp = makeTempDir('engine-new');
    copy = join(tmp.dir, 'checkout');
    for (const entry of CHECKOUT) {
      if (existsSync(join(REPO, entry))) cpSync(join(REPO, entry), join(copy, entry), { recursive: true });
    }
    symlinkSync(join(REPO, 'node_modules'), join(copy, 'node_modules'), 'dir');
    for (const file of UPDATED) before[file] = readFileSync(join(copy, file), 'utf8');
    created = vm(['--format', 'json', 'engine', 'new', 'incidents', '--root', copy]);
  }, SLOW);

  afterAll(() => tmp?.remove());

  const snapshot = () => ({ ...snapshotDataDir(join(copy, 'src')), ...snapshotDataDir(join(copy, 'test')) });

  it('writes the engine and registers it above the markers', () => {
    expect(created.status, output(created)).toBe(0);
    expect(JSON.parse(created.stdout)).toEqual({
      engine: 'incidents',
      scroll: 'incidents',
      created: CREATED,
      updated: UPDATED,
      test: 'test/engines/incidents.test.ts',
    });
    for (const file of CREATED) expect(existsSync(join(copy, file)), file).toBe(true);
    const scrolls = readFileSync(join(copy, 'src/core/scrolls/index.ts'), 'utf8');
    expect(scrolls).toContain(
      "import { incidentsScroll } from './incidents.js';\n// vm engine new: scroll imports\n",
    );
    expect(scrolls).toContain('  incidentsScroll,\n  // vm engine new: scrolls\n');
    const registry = readFileSync(join(copy, 'src/engines/registry.ts'), 'utf8');
    expect(registry).toContain(
      "import { incidentsEngine } from './incidents/index.js';\n// vm engine new: engine imports\n",
    );
    expect(registry).toContain('  incidentsEngine,\n  // vm engine new: engines\n');
    for (const file of UPDATED) {
      expect(readFileSync(join(copy, file), 'utf8').split('\n').length, file).toBe(
        before[file]!.split('\n').length + 2,
      );
    }
  });

  it(
    'leaves a checkout that type-checks',
    () => {
      const result = tool(copy, 'tsc', ['-p', 'tsconfig.json', '--noEmit']);
      expect(result.status, output(result)).toBe(0);
    },
    SLOW,
  );

  it(
    'builds, and the new engine passes the design gate',
    () => {
      const build = tool(copy, 'tsc', ['-p', 'tsconfig.build.json']);
      expect(build.status, output(build)).toBe(0);
      const gate = spawnSync(process.execPath, ['bin/vm.js', 'gate', 'incidents'], {
        cwd: copy,
        encoding: 'utf8',
        timeout: SLOW,
      });
      expect(gate.status, `${gate.stdout}\n${gate.stderr}`).toBe(0);
      expect(gate.stdout).toContain('pass incidents');
    },
    SLOW,
  );

  it(
    'generates a test that passes',
    () => {
      const result = tool(copy, 'vitest', ['run', 'test/engines/incidents.test.ts']);
      expect(result.status, output(result)).toBe(0);
      expect(result.stdout).toMatch(/Tests\s+4 passed/);
    },
    SLOW,
  );

  it(
    'generates files that eslint and prettier accept',
    () => {
      const files = [...CREATED, ...UPDATED];
      const lint = tool(copy, 'eslint', files);
      expect(lint.status, output(lint)).toBe(0);
      const format = tool(copy, 'prettier', ['--check', ...files]);
      expect(format.status, output(format)).toBe(0);
    },
    SLOW,
  );

  it('refuses an engine that exists and changes nothing', () => {
    const files = snapshot();
    const again = vm(['--format', 'json', 'engine', 'new', 'incidents', '--root', copy]);
    expect(again.status, output(again)).toBe(2);
    expect(jsonError(again).code).toBe('ENGINE_EXISTS');
    expect(snapshot()).toEqual(files);
  });

  it('refuses a name that is not an engine id', () => {
    const files = snapshot();
    const bad = vm(['--format', 'json', 'engine', 'new', 'Bad_Name', '--root', copy]);
    expect(bad.status, output(bad)).toBe(2);
    expect(jsonError(bad).code).toBe('INVALID_ID');
    expect(snapshot()).toEqual(files);
  });

  it('refuses a root that is not a VaultMesh checkout', () => {
    const elsewhere = makeTempDir('engine-new-root');
    try {
      const result = vm(['--format', 'json', 'engine', 'new', 'incidents', '--root', elsewhere.dir]);
      expect(result.status, output(result)).toBe(2);
      const error = jsonError(result);
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.hint).toContain('--root');
      expect(snapshotDataDir(elsewhere.dir)).toEqual({});
    } finally {
      elsewhere.remove();
    }
  });
});

describe('engine templates', () => {
  // Prettier's layout of a line can depend on its length, so the shortest and longest names and
  // nouns must all come out exactly as prettier would print them.
  it('are in prettier style for every length of name and noun', async () => {
    const options = await prettier.resolveConfig(join(REPO, 'src/index.ts'));
    for (const name of ['ab', 'abcdefghijklmnopqrstuvwxyzabcde', 'a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p']) {
      for (const noun of ['ab', 'abcdefghijklmnopqrstu']) {
        for (const file of engineFiles(engineNames(name, noun))) {
          const formatted = await prettier.format(file.text, { ...options, filepath: file.path });
          expect(file.text, `${file.path} (noun ${noun})`).toBe(formatted);
        }
      }
    }
  });
});

/**
 * `vm engine new <name>`: writes a complete, working engine into a VaultMesh source checkout — its
 * scroll, contract, engine module (plan, seal, query and the shared runner's operations) and a
 * test — and registers the scroll and the engine above the `// vm engine new:` markers. Every
 * check runs before the first write, and a failed write takes back what was already written, so
 * the checkout is either left as it was or gains the whole engine.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { VaultMeshError, isVaultMeshError } from '../../core/errors.js';
import { writeFileDurably } from '../../ledger/durable.js';
import {
  contractTemplate,
  engineConst,
  engineTemplate,
  scrollConst,
  scrollTemplate,
  testTemplate,
  type EngineNames,
} from './scaffold-templates.js';

export interface ScaffoldResult {
  engine: string;
  scroll: string;
  created: string[];
  updated: string[];
  test: string;
}

const NAME_RE = /^[a-z][a-z0-9-]{1,30}$/;
const NOUN_RE = /^[a-z][a-z0-9]{1,20}$/;
// Run commands take `--<noun> <id>`: these nouns would clash with the CLI's global options or with
// a runner operation's own flags.
const RESERVED_NOUNS = new Set(['data', 'format', 'help', 'version', 'outputs', 'reason']);

const SCROLLS_INDEX = 'src/core/scrolls/index.ts';
const REGISTRY = 'src/engines/registry.ts';
const CLI_MAIN = 'src/interfaces/cli/main.ts';
const MARKERS = {
  scrollImports: '// vm engine new: scroll imports',
  scrolls: '// vm engine new: scrolls',
  engineImports: '// vm engine new: engine imports',
  engines: '// vm engine new: engines',
} as const;

export function engineNames(name: string, noun = 'run'): EngineNames {
  // Dashes only between letters and digits, so that the camelCase form is an identifier.
  if (!NAME_RE.test(name) || !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(name)) {
    throw new VaultMeshError('INVALID_ID', `engine name "${name}" is not valid`, {
      hint: 'use 2-31 lower-case letters, digits and single dashes, starting with a letter, e.g. incidents',
    });
  }
  if (!NOUN_RE.test(noun) || RESERVED_NOUNS.has(noun)) {
    throw new VaultMeshError('INVALID_ID', `--noun "${noun}" is not valid`, {
      hint: `use 2-21 lower-case letters and digits, starting with a letter, e.g. incident; not ${[...RESERVED_NOUNS].join(', ')}`,
    });
  }
  const words = name.split('-');
  return {
    name,
    noun,
    camel: words.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join(''),
    snake: words.join('_'),
    title: words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join(' '),
  };
}

/** The files a new engine consists of, relative to the checkout. */
export function engineFiles(n: EngineNames): { path: string; text: string }[] {
  return [
    { path: `src/core/scrolls/${n.name}.ts`, text: scrollTemplate(n) },
    { path: `src/engines/${n.name}/contract.ts`, text: contractTemplate(n) },
    { path: `src/engines/${n.name}/index.ts`, text: engineTemplate(n) },
    { path: testPath(n), text: testTemplate(n) },
  ];
}

const testPath = (n: EngineNames): string => `test/engines/${n.name}.test.ts`;

export function scaffoldEngine(options: { root: string; name: string; noun?: string }): ScaffoldResult {
  const names = engineNames(options.name, options.noun);
  const root = resolve(options.root);
  assertCheckout(root);
  assertNew(root, names);
  const files = engineFiles(names);
  const updates = [
    {
      path: SCROLLS_INDEX,
      text: insertAbove(
        insertAbove(
          read(root, SCROLLS_INDEX),
          MARKERS.scrollImports,
          `import { ${scrollConst(names)} } from './${names.name}.js';`,
        ),
        MARKERS.scrolls,
        `${scrollConst(names)},`,
      ),
    },
    {
      path: REGISTRY,
      text: insertAbove(
        insertAbove(
          read(root, REGISTRY),
          MARKERS.engineImports,
          `import { ${engineConst(names)} } from './${names.name}/index.js';`,
        ),
        MARKERS.engines,
        `${engineConst(names)},`,
      ),
    },
  ];
  write(root, names, files, updates);
  return {
    engine: names.name,
    scroll: names.name,
    created: files.map((f) => f.path),
    updated: updates.map((u) => u.path),
    test: testPath(names),
  };
}

function read(root: string, path: string): string {
  return readFileSync(join(root, path), 'utf8');
}

function notCheckout(root: string, problem: string): VaultMeshError {
  return new VaultMeshError('INVALID_ARGUMENT', `${root} is not a VaultMesh source checkout: ${problem}`, {
    hint: 'run it in a VaultMesh source checkout or pass --root',
  });
}

function assertCheckout(root: string): void {
  let pkg: unknown;
  try {
    pkg = JSON.parse(read(root, 'package.json'));
  } catch {
    throw notCheckout(root, 'no readable package.json');
  }
  if ((pkg as { name?: unknown } | null)?.name !== 'vaultmesh') {
    throw notCheckout(root, 'package.json does not name vaultmesh');
  }
  const marked: [string, string[]][] = [
    [SCROLLS_INDEX, [MARKERS.scrollImports, MARKERS.scrolls]],
    [REGISTRY, [MARKERS.engineImports, MARKERS.engines]],
  ];
  for (const [path, markers] of marked) {
    if (!existsSync(join(root, path))) throw notCheckout(root, `${path} is missing`);
    const lines = read(root, path).split('\n');
    for (const marker of markers) {
      if (lines.filter((l) => l.trim() === marker).length !== 1) {
        throw notCheckout(root, `${path} does not have the line "${marker}" exactly once`);
      }
    }
  }
}

function exists(message: string): VaultMeshError {
  return new VaultMeshError('ENGINE_EXISTS', message, {
    hint: 'choose another name, or remove the existing engine first',
  });
}

/** Refuses a name that anything in the checkout already uses. */
function assertNew(root: string, n: EngineNames): void {
  for (const path of [`src/engines/${n.name}`, `src/core/scrolls/${n.name}.ts`, testPath(n)]) {
    if (existsSync(join(root, path))) throw exists(`engine ${n.name}: ${path} already exists`);
  }
  const scrollDir = join(root, 'src/core/scrolls');
  const taken = new Set<string>();
  for (const file of readdirSync(scrollDir).filter((f) => f.endsWith('.ts'))) {
    // getScroll() finds a scroll by its name or its lower-cased title, so both must be free.
    for (const m of read(scrollDir, file).matchAll(/^\s*(?:name|title): '([^']+)'/gm)) {
      taken.add(m[1]!.toLowerCase());
    }
  }
  if (taken.has(n.name) || taken.has(n.title.toLowerCase())) {
    throw exists(`scroll ${n.name}: a scroll in src/core/scrolls/ already has this name or title`);
  }
  const enginesDir = join(root, 'src/engines');
  for (const dir of readdirSync(enginesDir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    const index = join(enginesDir, dir.name, 'index.ts');
    if (existsSync(index) && readFileSync(index, 'utf8').includes(`id: '${n.name}',`)) {
      throw exists(`engine id ${n.name} is already used by src/engines/${dir.name}`);
    }
  }
  // Engines become top-level commands; commander refuses a second command of the same name.
  if (existsSync(join(root, CLI_MAIN))) {
    const commands = [...read(root, CLI_MAIN).matchAll(/\.command\('([^']+)'\)/g)].map((m) => m[1]);
    if ([...commands, 'help'].includes(n.name)) {
      throw new VaultMeshError('INVALID_ID', `"vm ${n.name}" is already a command`, {
        hint: 'choose an engine name that is not a vm command',
      });
    }
  }
  for (const [path, identifier] of [
    [SCROLLS_INDEX, scrollConst(n)],
    [REGISTRY, engineConst(n)],
  ] as const) {
    if (new RegExp(`\\b${identifier}\\b`).test(read(root, path))) {
      throw new VaultMeshError('INVALID_ID', `${path} already uses the identifier ${identifier}`, {
        hint: 'choose another engine name',
      });
    }
  }
}

function insertAbove(text: string, marker: string, line: string): string {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trim() === marker);
  const indent = /^\s*/.exec(lines[at]!)![0];
  lines.splice(at, 0, `${indent}${line}`);
  return lines.join('\n');
}

function write(
  root: string,
  n: EngineNames,
  files: readonly { path: string; text: string }[],
  updates: readonly { path: string; text: string }[],
): void {
  const createdDirs: string[] = [];
  const createdFiles: string[] = [];
  const originals: { path: string; text: string }[] = [];
  try {
    for (const file of files) {
      const path = join(root, file.path);
      const made = mkdirSync(dirname(path), { recursive: true });
      if (made !== undefined) createdDirs.push(made);
      try {
        writeFileSync(path, file.text, { flag: 'wx' });
      } catch (cause) {
        // Appeared since the checks ran: someone else is creating the same engine.
        if ((cause as NodeJS.ErrnoException).code === 'EEXIST') {
          throw exists(`engine ${n.name}: ${file.path} already exists`);
        }
        throw cause;
      }
      createdFiles.push(path);
    }
    for (const update of updates) {
      const path = join(root, update.path);
      originals.push({ path, text: readFileSync(path, 'utf8') });
      writeFileDurably(path, update.text);
    }
  } catch (cause) {
    for (const original of originals) writeFileDurably(original.path, original.text);
    for (const path of createdFiles) rmSync(path, { force: true });
    for (const dir of createdDirs.reverse()) rmSync(dir, { recursive: true, force: true });
    if (isVaultMeshError(cause)) throw cause;
    throw new VaultMeshError('IO_ERROR', `could not write engine ${n.name}: ${(cause as Error).message}`, {
      cause,
      hint: 'fix the cause; nothing of the new engine was left behind',
    });
  }
}

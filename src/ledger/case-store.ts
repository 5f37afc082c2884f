/**
 * Sealed case directories: `cases/<engine>/<id>/` holding what a run produced, an
 * `ARTIFACTS.sha256` manifest that `sha256sum -c` accepts, and `PROOF.json`, the receipt bundle
 * that proves the case's receipt is in its scroll. A case is assembled in a temporary directory
 * and renamed into place, so a crash leaves either no case or a whole one.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { VaultMeshError } from '../core/errors.js';
import { blake3Tagged } from '../core/hash.js';
import { assertSafeId } from '../core/ids.js';
import type { DataDir } from './data-dir.js';
import { fsyncDirectory, writeFileDurably } from './durable.js';
import { sha256File, type FileDigest } from './file-hash.js';

export const MANIFEST_FILE = 'ARTIFACTS.sha256';
export const PROOF_FILE = 'PROOF.json';

export interface CaseFile {
  /** Path inside the case directory, `/`-separated. */
  path: string;
  /** The file to copy. */
  from: string;
  /** The `sha256:` the copy must have: evidence hashed when it was attached must not have changed since. */
  expected?: string;
}

export interface Artifact {
  path: string;
  sha256: string;
  bytes: number;
}

export interface SealedCase {
  dir: string;
  /** `cases/<engine>/<id>`, relative to the data directory, as receipts name it. */
  relDir: string;
  artifacts: Artifact[];
  /** `blake3:` of the manifest's bytes: one hash that pins every file of the case. */
  manifestHash: string;
}

export function caseDir(dataDir: DataDir, engine: string, id: string): string {
  return join(dataDir.casesDir(engine), assertSafeId(id, 'case id'));
}

/**
 * Writes the case afresh (replacing an unfinished earlier attempt) and returns its manifest. The
 * caller holds the run's lock, so the staging names need no pid: a killed attempt's leftovers are
 * simply cleared by the next one.
 * @throws VaultMeshError ARTIFACT_MISMATCH when a copy does not hash to its `expected` value; nothing is
 *   left behind then.
 */
export function writeCase(
  dataDir: DataDir,
  engine: string,
  id: string,
  files: readonly CaseFile[],
): SealedCase {
  const dir = caseDir(dataDir, engine, id);
  const parent = dirname(dir);
  const staging = join(parent, `.${id}.staging`);
  const replaced = join(parent, `.${id}.replaced`);
  rmSync(replaced, { recursive: true, force: true });
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const artifacts: Artifact[] = [];
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const target = join(staging, file.path);
    mkdirSync(dirname(target), { recursive: true });
    let actual: FileDigest | undefined;
    try {
      copyFileSync(file.from, target);
      actual = sha256File(target, { sync: true });
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause;
    }
    if (actual === undefined || (file.expected !== undefined && actual.sha256 !== file.expected)) {
      rmSync(staging, { recursive: true, force: true });
      throw new VaultMeshError('ARTIFACT_MISMATCH', `${file.path} changed after it was attached`, {
        hint: 'restore the file; attached outputs are evidence and must not change before sealing',
        evidence: { path: file.from, expected: file.expected, actual: actual?.sha256 ?? 'missing' },
      });
    }
    const { sha256, bytes } = actual;
    artifacts.push({ path: file.path, sha256, bytes });
    fsyncDirectory(dirname(target));
  }
  const manifest = formatManifest(artifacts);
  writeFileDurably(join(staging, MANIFEST_FILE), manifest);
  if (existsSync(dir)) {
    renameSync(dir, replaced);
    renameSync(staging, dir);
    rmSync(replaced, { recursive: true, force: true });
  } else {
    renameSync(staging, dir);
  }
  fsyncDirectory(parent);
  return { dir, relDir: relative(dataDir.root, dir), artifacts, manifestHash: blake3Tagged(manifest) };
}

export function writeProof(dir: string, bundle: string): void {
  writeFileDurably(join(dir, PROOF_FILE), bundle.endsWith('\n') ? bundle : `${bundle}\n`);
}

/** `sha256sum` format: hex, two spaces (text mode), path; sorted by path. */
export function formatManifest(artifacts: readonly Artifact[]): string {
  return artifacts.map((a) => `${a.sha256.slice('sha256:'.length)}  ${a.path}\n`).join('');
}

export interface CaseCheck {
  manifestHash: string;
  /** Files whose bytes no longer hash to the manifest, or that are gone. */
  problems: Array<{ path: string; problem: 'changed' | 'missing'; expected: string; actual?: string }>;
}

/**
 * A file of a sealed case. A case file that is gone is evidence lost, so it is reported as a failed
 * verification rather than as a missing input.
 */
export function readCaseFile(dir: string, path: string): string {
  try {
    return readFileSync(join(dir, path), 'utf8');
  } catch (cause) {
    throw new VaultMeshError(
      'ARTIFACT_MISMATCH',
      `case file ${path} cannot be read: ${(cause as Error).message}`,
      {
        cause,
        hint: `restore ${join(dir, path)} from a backup; the case's receipt pins its hash`,
      },
    );
  }
}

/** Re-hashes every file the manifest lists. */
export function checkCase(dir: string): CaseCheck {
  const manifest = readCaseFile(dir, MANIFEST_FILE);
  const problems: CaseCheck['problems'] = [];
  for (const line of manifest.split('\n').filter((l) => l !== '')) {
    const hex = line.slice(0, 64);
    const path = line.slice(66);
    const file = join(dir, path);
    if (!existsSync(file)) {
      problems.push({ path, problem: 'missing', expected: `sha256:${hex}` });
      continue;
    }
    const actual = sha256File(file);
    if (actual.hex !== hex)
      problems.push({ path, problem: 'changed', expected: `sha256:${hex}`, actual: actual.sha256 });
  }
  return { manifestHash: blake3Tagged(manifest), problems };
}

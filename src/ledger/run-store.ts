/**
 * The working files of an engine's runs until they are sealed:
 * `runs/<engine>/<id>/contract.json`, `<noun>_state.json` and `outputs/<stage>/<file>`.
 * Every change to a run happens under the run's lock and replaces the state file atomically, so
 * two commands racing on one run see one legal transition after the other.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { parseJson, type JsonValue } from '../core/canonical.js';
import { VaultMeshError } from '../core/errors.js';
import { assertSafeFileName, assertSafeId } from '../core/ids.js';
import { runStateSchema, type RunState, type StageOutput } from '../core/runner.js';
import type { DataDir } from './data-dir.js';
import { fsyncDirectory, writeFileDurably } from './durable.js';
import { sha256File } from './file-hash.js';
import { withLock } from './lock.js';

const LOCK_TIMEOUT_MS = 10_000;

export interface StoredRun {
  contract: JsonValue;
  state: RunState;
}

export class RunStore {
  readonly root: string;
  readonly stateFileName: string;
  private readonly idField: string;

  constructor(
    dataDir: DataDir,
    readonly engine: string,
    readonly noun: string,
  ) {
    this.root = dataDir.runsDir(engine);
    this.stateFileName = `${noun}_state.json`;
    this.idField = `${noun}_id`;
  }

  dir(id: string): string {
    return join(this.root, assertSafeId(id, `${this.noun} id`));
  }

  has(id: string): boolean {
    return existsSync(join(this.dir(id), this.stateFileName));
  }

  /** Ids of the runs not sealed yet, in name order. */
  ids(): string[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root)
      .filter((name) => !name.startsWith('.') && existsSync(join(this.root, name, this.stateFileName)))
      .sort();
  }

  create(contract: JsonValue, state: RunState): void {
    const dir = this.dir(state.id);
    mkdirSync(this.root, { recursive: true });
    try {
      mkdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      throw new VaultMeshError('RUN_EXISTS', `${this.noun} ${state.id} already exists in ${dir}`, {
        hint: `continue it (status, next, complete-stage) or plan a new ${this.noun} with another id`,
      });
    }
    writeFileDurably(join(dir, 'contract.json'), `${JSON.stringify(contract, null, 2)}\n`);
    this.writeState(state);
  }

  read(id: string): StoredRun {
    const dir = this.dir(id);
    if (!this.has(id)) {
      throw new VaultMeshError('UNKNOWN_RUN', `no open ${this.noun} "${id}" in ${this.root}`, {
        hint: `list the open ${this.noun}s with: status; sealed ones are under cases/${this.engine}/`,
      });
    }
    const contract = this.readJson(join(dir, 'contract.json'));
    const { [this.idField]: storedId, ...rest } = this.readJson(join(dir, this.stateFileName)) as Record<
      string,
      unknown
    >;
    const parsed = runStateSchema.safeParse({ ...rest, id: storedId });
    if (!parsed.success) {
      throw new VaultMeshError(
        'INVALID_STATE',
        `${join(dir, this.stateFileName)}: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`,
        {
          hint: 'the state file was changed outside VaultMesh; restore it, or remove the run and init it again',
        },
      );
    }
    return { contract, state: parsed.data };
  }

  private readJson(path: string): JsonValue {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (cause) {
      throw new VaultMeshError('IO_ERROR', `cannot read ${path}: ${(cause as Error).message}`, {
        cause,
        hint: 'the run directory was changed outside VaultMesh; restore it, or remove the run and init it again',
      });
    }
    return parseJson(text, path);
  }

  /** Runs `change` under the run's lock and stores the state it returns. */
  async update(id: string, change: (run: StoredRun) => RunState | Promise<RunState>): Promise<RunState> {
    this.read(id);
    return this.locked(id, async () => {
      const next = await change(this.read(id));
      this.writeState(next);
      return next;
    });
  }

  /** The run's lock lives outside its directory, so that sealing can remove the run while holding it. */
  locked<T>(id: string, work: () => Promise<T>): Promise<T> {
    const locks = join(this.root, '.locks');
    mkdirSync(locks, { recursive: true });
    return withLock(join(locks, `${assertSafeId(id, `${this.noun} id`)}.lock`), LOCK_TIMEOUT_MS, work);
  }

  /**
   * Copies files into `outputs/<stage>/` and hashes the copies. Call it inside `update`, after the
   * transition was checked, so a refused transition leaves no files behind.
   */
  attach(id: string, stageId: string, files: readonly string[], cwd: string): StageOutput[] {
    const runDir = this.dir(id);
    const stageDir = join(runDir, 'outputs', assertSafeId(stageId, 'stage id'));
    const sources = files.map((file) => {
      const source = resolve(cwd, file);
      let stats;
      try {
        stats = statSync(source);
      } catch {
        throw new VaultMeshError('FILE_MISSING', `output file ${file} does not exist`, {
          hint: 'pass the paths of files that exist (relative to the current directory)',
        });
      }
      if (!stats.isFile()) {
        throw new VaultMeshError('INVALID_ARGUMENT', `output ${file} is not a regular file`, {
          hint: 'attach files one by one; archive a directory first (tar czf out.tgz dir)',
        });
      }
      return { source, name: assertSafeFileName(basename(source), 'output file name') };
    });
    const names = new Set<string>();
    for (const { name } of sources) {
      if (names.has(name) || existsSync(join(stageDir, name))) {
        throw new VaultMeshError('INVALID_ARGUMENT', `stage ${stageId} already has an output named ${name}`, {
          hint: 'give each output file of a stage its own name',
        });
      }
      names.add(name);
    }
    mkdirSync(stageDir, { recursive: true });
    const outputs = sources.map(({ source, name }) => {
      const target = join(stageDir, name);
      copyFileSync(source, target);
      const { sha256, bytes } = sha256File(target, { sync: true });
      return { path: relative(runDir, target), sha256, bytes };
    });
    fsyncDirectory(stageDir);
    return outputs;
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }

  private writeState(state: RunState): void {
    const { id, ...rest } = state;
    writeFileDurably(
      join(this.dir(id), this.stateFileName),
      `${JSON.stringify({ [this.idField]: id, ...rest }, null, 2)}\n`,
    );
  }
}

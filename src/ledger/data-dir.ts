/** Where everything lives in a data directory (the seeds' layout plus the derived sidecars). */
import { accessSync, constants, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { VaultMeshError } from '../core/errors.js';
import type { ScrollDefinition } from '../core/scrolls/index.js';

export const DEFAULT_DATA_DIR = 'vaultmesh-data';
export const CASE_ENGINES = ['drills', 'treasury', 'offsec', 'identity', 'psi', 'console'] as const;

/** `--data DIR`, else `VAULTMESH_DATA`, else `./vaultmesh-data`. */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? (env.VAULTMESH_DATA || DEFAULT_DATA_DIR));
}

export class DataDir {
  constructor(readonly root: string) {}

  get configFile(): string {
    return join(this.root, 'vaultmesh.toml');
  }
  get keysDir(): string {
    return join(this.root, 'keys');
  }
  get signerKeyFile(): string {
    return join(this.keysDir, 'node.key');
  }
  get verifierKeyFile(): string {
    return join(this.keysDir, 'node.vkey');
  }
  get indexDir(): string {
    return join(this.root, 'index');
  }
  get queryIndexFile(): string {
    return join(this.indexDir, 'query.sqlite');
  }
  scrollFile(scroll: ScrollDefinition): string {
    return join(this.root, scroll.file);
  }
  scrollDir(scroll: ScrollDefinition): string {
    return join(this.root, 'receipts', scroll.name);
  }
  rootFile(scroll: ScrollDefinition): string {
    return join(this.root, scroll.rootFile);
  }
  checkpointFile(scroll: ScrollDefinition): string {
    return join(this.scrollDir(scroll), 'checkpoint');
  }
  sidecarDir(scroll: ScrollDefinition): string {
    return join(this.indexDir, scroll.name);
  }
  lockFile(scroll: ScrollDefinition): string {
    return join(this.indexDir, scroll.name, 'writer.lock');
  }
  casesDir(engine: string): string {
    return join(this.root, 'cases', engine);
  }
  /** Work in progress of an engine's runs (contract, state, attached outputs) until it is sealed. */
  runsDir(engine: string): string {
    return join(this.root, 'runs', engine);
  }

  /** @throws VaultMeshError DATA_DIR_MISSING or DATA_DIR_UNREADABLE with the path and a fix. */
  assertUsable(): void {
    let isDir: boolean;
    try {
      isDir = statSync(this.root).isDirectory();
    } catch {
      throw new VaultMeshError('DATA_DIR_MISSING', `data directory ${this.root} does not exist`, {
        hint: `create it with: vm init ${this.root}  (or pass --data DIR / set VAULTMESH_DATA)`,
      });
    }
    if (!isDir) {
      throw new VaultMeshError('DATA_DIR_UNREADABLE', `${this.root} is not a directory`, {
        hint: 'point --data or VAULTMESH_DATA at a VaultMesh data directory',
      });
    }
    try {
      accessSync(this.root, constants.R_OK | constants.X_OK);
    } catch (cause) {
      throw new VaultMeshError('DATA_DIR_UNREADABLE', `data directory ${this.root} is not readable`, {
        cause,
        hint: 'check its owner and permissions (it must be readable and searchable by this user)',
      });
    }
  }
}

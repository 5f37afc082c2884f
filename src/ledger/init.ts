/** `vm init`: a data directory in the seeds' layout, a node key, a DID and a config file. */
import { existsSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { VaultMeshError } from '../core/errors.js';
import { generateNoteKey } from '../core/note.js';
import { SCROLLS } from '../core/scrolls/index.js';
import { defaultConfig, formatConfig, NODE_NAME_RE, nodeDid } from './config.js';
import { CASE_ENGINES, DataDir } from './data-dir.js';
import { writeFileDurably } from './durable.js';
import { Ledger } from './ledger.js';

export interface InitResult {
  dataDir: string;
  did: string;
  origin: string;
  vkey: string;
}

/** A node name from the host name, made to fit the allowed alphabet. */
export function defaultNodeName(): string {
  const name = hostname()
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63);
  return NODE_NAME_RE.test(name) ? name : 'vaultmesh-node';
}

/** Creates the directory, then publishes an empty signed checkpoint and ROOT file for every scroll. */
export async function initDataDir(root: string, name = defaultNodeName()): Promise<InitResult> {
  if (!NODE_NAME_RE.test(name)) {
    throw new VaultMeshError('INVALID_ARGUMENT', `node name "${name}" is not valid`, {
      hint: 'use lower-case letters, digits, . _ - (up to 63 characters, starting with a letter or digit)',
    });
  }
  const dir = new DataDir(root);
  if (existsSync(dir.configFile)) {
    throw new VaultMeshError('DATA_DIR_EXISTS', `${root} is already a VaultMesh data directory`, {
      hint: 'use it as it is, or choose another directory for a new node',
    });
  }
  try {
    mkdirSync(root, { recursive: true });
    for (const scroll of SCROLLS) {
      mkdirSync(dir.scrollDir(scroll), { recursive: true });
      mkdirSync(dir.sidecarDir(scroll), { recursive: true });
    }
    for (const engine of CASE_ENGINES) mkdirSync(dir.casesDir(engine), { recursive: true });
    mkdirSync(dir.keysDir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new VaultMeshError('DATA_DIR_UNREADABLE', `cannot create ${root}: ${(cause as Error).message}`, {
      cause,
      hint: 'choose a directory this user may write to',
    });
  }
  const config = defaultConfig(name);
  const { skey, vkey } = generateNoteKey(config.node.origin);
  writeFileDurably(dir.signerKeyFile, `${skey}\n`, 0o600);
  writeFileDurably(dir.verifierKeyFile, `${vkey}\n`);
  // The config goes last: its presence is what marks the directory as initialized.
  writeFileDurably(dir.configFile, formatConfig(config));
  const ledger = Ledger.open(root);
  try {
    for (const scroll of SCROLLS) await ledger.publish(scroll.name);
  } finally {
    await ledger.close();
  }
  return { dataDir: root, did: nodeDid(config), origin: config.node.origin, vkey };
}

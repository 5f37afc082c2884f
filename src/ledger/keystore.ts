/**
 * The node's keystore for DIDs whose keys the node holds: one 0600 file per key under
 * `keys/dids/<hash of the DID>/key-<n>.json` (a 0700 directory). Receipts and DID documents carry
 * only the public keys; a private key never leaves these files except into this process's memory.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { base64urlnopad } from '@scure/base';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { VaultMeshError } from '../core/errors.js';
import { blake3Tagged } from '../core/hash.js';
import { keyId, keyNumber } from '../core/identity/did.js';
import type { DataDir } from './data-dir.js';
import { fsyncDirectory, writeFileDurably } from './durable.js';

export interface DidSigner {
  did: string;
  kid: string;
  publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

interface KeyFile {
  did: string;
  kid: string;
  alg: 'ed25519';
  secret_key: string;
}

function didDir(dataDir: DataDir, did: string): string {
  return join(dataDir.keysDir, 'dids', blake3Tagged(did).slice('blake3:'.length, 'blake3:'.length + 32));
}

function keyFile(dataDir: DataDir, did: string, n: number): string {
  return join(didDir(dataDir, did), `key-${n}.json`);
}

/** Key numbers held for the DID, highest first. */
function heldNumbers(dataDir: DataDir, did: string): number[] {
  const dir = didDir(dataDir, did);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => /^key-([1-9][0-9]*)\.json$/.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
}

/**
 * Makes key `n` of the DID and keeps its private half. A file left by an attempt that never got
 * its receipt written is replaced: that key was never published.
 */
export function generateDidKey(
  dataDir: DataDir,
  did: string,
  n: number,
): { kid: string; publicKey: Uint8Array } {
  const secret = ed25519.utils.randomSecretKey();
  const kid = keyId(did, n);
  const dir = didDir(dataDir, did);
  mkdirSync(join(dataDir.keysDir, 'dids'), { recursive: true, mode: 0o700 });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file: KeyFile = { did, kid, alg: 'ed25519', secret_key: base64urlnopad.encode(secret) };
  writeFileDurably(keyFile(dataDir, did, n), `${JSON.stringify(file)}\n`, 0o600);
  return { kid, publicKey: ed25519.getPublicKey(secret) };
}

/** Forgets the private half of a key that was rotated away. */
export function destroyDidKey(dataDir: DataDir, did: string, kid: string): void {
  const n = keyNumber(kid);
  if (n === undefined) return;
  rmSync(keyFile(dataDir, did, n), { force: true });
  if (existsSync(didDir(dataDir, did))) fsyncDirectory(didDir(dataDir, did));
}

export function holdsKey(dataDir: DataDir, did: string, kid: string): boolean {
  const n = keyNumber(kid);
  return n !== undefined && existsSync(keyFile(dataDir, did, n));
}

/**
 * The signer for the DID's newest key in the keystore, or for `kid` when given.
 * @throws VaultMeshError KEY_NOT_HELD when the node holds no private key for it; INVALID_KEY when
 *   the file is readable by others or damaged.
 */
export function loadDidSigner(dataDir: DataDir, did: string, kid?: string): DidSigner {
  const n = kid === undefined ? heldNumbers(dataDir, did)[0] : keyNumber(kid);
  const path = n === undefined ? undefined : keyFile(dataDir, did, n);
  if (path === undefined || !existsSync(path)) {
    throw new VaultMeshError('KEY_NOT_HELD', `this node holds no private key for ${kid ?? did}`, {
      hint: `the key is held by the DID's holder: have them sign, or create a DID whose key the node keeps (vm identity did create)`,
      evidence: { did },
    });
  }
  const mode = statSync(path).mode & 0o077;
  if (mode !== 0) {
    throw new VaultMeshError('INVALID_KEY', `${path} is readable by others`, {
      hint: `restrict it with: chmod 600 ${path}`,
    });
  }
  let file: KeyFile;
  let secret: Uint8Array;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
    secret = base64urlnopad.decode(file.secret_key);
  } catch (cause) {
    throw new VaultMeshError('INVALID_KEY', `${path} is not a VaultMesh key file`, {
      cause,
      hint: 'restore it from a backup of the data directory',
    });
  }
  if (file.did !== did || secret.length !== 32) {
    throw new VaultMeshError('INVALID_KEY', `${path} does not hold a key of ${did}`, {
      hint: 'restore it from a backup of the data directory',
    });
  }
  return {
    did,
    kid: file.kid,
    publicKey: ed25519.getPublicKey(secret),
    sign: (message) => ed25519.sign(message, secret),
  };
}

/** The node's name, DID, checkpoint origin and signing key, loaded from its data directory. */
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { VaultMeshError } from '../core/errors.js';
import { parseSignerKey, parseVerifierKey, type NoteSigner, type NoteVerifier } from '../core/note.js';
import type { ScrollDefinition } from '../core/scrolls/index.js';
import { loadConfig, nodeDid, type NodeConfig } from './config.js';
import type { DataDir } from './data-dir.js';

export interface NodeIdentity {
  config: NodeConfig;
  did: string;
  vkey: string;
  verifier: NoteVerifier;
}

export function loadNodeIdentity(dataDir: DataDir): NodeIdentity {
  dataDir.assertUsable();
  const config = loadConfig(dataDir.configFile);
  const vkey = readKeyFile(dataDir.verifierKeyFile, 'verifier key').trim();
  return { config, did: nodeDid(config), vkey, verifier: nativeVerifier(parseVerifierKey(vkey)) };
}

/**
 * The same key, verified by node:crypto: a node checks its own signatures on every checkpoint read
 * and every bearer token, and the native check is some thirty times faster than the portable one
 * core uses in browsers. A unit test holds the two to the same answers.
 */
export function nativeVerifier(verifier: NoteVerifier): NoteVerifier {
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(verifier.publicKey).toString('base64url') },
    format: 'jwk',
  });
  return {
    ...verifier,
    verify: (message, signature) => signature.length === 64 && verify(null, message, key, signature),
  };
}

/** The signing key never leaves its 0600 file except into this process's memory. */
export function loadNodeSigner(dataDir: DataDir): NoteSigner {
  const path = dataDir.signerKeyFile;
  const mode = statSafe(path) & 0o077;
  if (mode !== 0) {
    throw new VaultMeshError(
      'INVALID_KEY',
      `${path} is readable by others (mode ${(mode | 0o600).toString(8)})`,
      {
        hint: `restrict it with: chmod 600 ${path}`,
      },
    );
  }
  return parseSignerKey(readKeyFile(path, 'signing key').trim());
}

export function scrollOrigin(identity: NodeIdentity, scroll: ScrollDefinition): string {
  return `${identity.config.node.origin}/${scroll.name}`;
}

function statSafe(path: string): number {
  try {
    return statSync(path).mode;
  } catch (cause) {
    throw new VaultMeshError('NOT_INITIALIZED', `cannot read ${path}`, {
      cause,
      hint: 'create the node key with: vm init',
    });
  }
}

function readKeyFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    throw new VaultMeshError('NOT_INITIALIZED', `cannot read the node's ${what} at ${path}`, {
      cause,
      hint: 'create a data directory with: vm init',
    });
  }
}

/**
 * The seeds' human-readable ROOT.<scroll>.txt: engine id, Merkle root (hex), number of events and
 * when it was written. Kept for people and old tooling; the signed checkpoint is what proves.
 */
import { fromHex, toHex } from './bytes.js';
import { VaultMeshError } from './errors.js';

export interface RootFile {
  title: string;
  engineId: string;
  merkleRoot: Uint8Array;
  events: number;
  updatedAt: string;
}

export function formatRootFile(root: RootFile): string {
  return (
    `# VaultMesh ${root.title} Root\n` +
    `engine_id=${root.engineId}\n` +
    `merkle_root=${toHex(root.merkleRoot)}\n` +
    `events=${root.events}\n` +
    `updated_at=${root.updatedAt}\n`
  );
}

/** @throws VaultMeshError INVALID_ARGUMENT naming the missing or malformed field. */
export function parseRootFile(text: string): RootFile {
  const lines = text.split('\n');
  const title = /^# VaultMesh (.+) Root$/.exec(lines[0] ?? '')?.[1];
  const fields = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const eq = line.indexOf('=');
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const field = (name: string): string => {
    const value = fields.get(name);
    if (value === undefined) throw new VaultMeshError('INVALID_ARGUMENT', `ROOT file has no ${name}= line`);
    return value;
  };
  const events = field('events');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(events) || !Number.isSafeInteger(Number(events))) {
    throw new VaultMeshError('INVALID_ARGUMENT', `ROOT file events=${events} is not a count`);
  }
  return {
    title: title ?? '',
    engineId: field('engine_id'),
    merkleRoot: fromHex(field('merkle_root'), 'ROOT file merkle_root', 32),
    events: Number(events),
    updatedAt: field('updated_at'),
  };
}

/**
 * Publishing a scroll's state: a C2SP signed checkpoint (`receipts/<scroll>/checkpoint`) and the
 * seeds' ROOT file. A new checkpoint is signed only if the tree still extends the previous one
 * (checked with a consistency proof), so a rewritten history is never signed as if it were fine.
 */
import { existsSync, readFileSync } from 'node:fs';
import { openCheckpoint, formatCheckpoint, type Checkpoint } from '../core/checkpoint.js';
import { VaultMeshError } from '../core/errors.js';
import { consistencyProof, rootAt, verifyConsistency } from '../core/merkle.js';
import { signNote, type NoteSigner } from '../core/note.js';
import { formatRootFile } from '../core/root-file.js';
import { writeFileDurably } from './durable.js';
import type { NodeIdentity } from './node-identity.js';
import { scrollOrigin } from './node-identity.js';
import { nodeTreeHasher } from './node-hasher.js';
import type { ScrollLog } from './scroll-log.js';

export interface PublishedCheckpoint {
  checkpoint: Checkpoint;
  /** The signed note, exactly as stored. */
  note: string;
}

/** Reads and verifies the scroll's stored checkpoint; undefined when none was published yet. */
export function readCheckpoint(log: ScrollLog, identity: NodeIdentity): PublishedCheckpoint | undefined {
  const path = log.dataDir.checkpointFile(log.scroll);
  if (!existsSync(path)) return undefined;
  const note = readFileSync(path, 'utf8');
  const { checkpoint } = openCheckpoint(note, [identity.verifier], scrollOrigin(identity, log.scroll));
  return { checkpoint, note };
}

/** Signs and stores a checkpoint for the current size if it moved. Call inside `log.locked()`. */
export function publishCheckpoint(
  log: ScrollLog,
  identity: NodeIdentity,
  signer: NoteSigner,
  now: Date,
): PublishedCheckpoint {
  const previous = readCheckpoint(log, identity);
  const size = log.size;
  if (previous !== undefined && previous.checkpoint.size === size) return previous;
  const root = rootAt(log.tree.readNode, size, nodeTreeHasher);
  if (previous !== undefined) {
    const old = previous.checkpoint;
    if (old.size > size) {
      throw new VaultMeshError(
        'CONSISTENCY_MISMATCH',
        `scroll ${log.scroll.name} has ${size} receipts but its signed checkpoint covers ${old.size}: receipts were removed`,
        { hint: `run vm verify ${log.scroll.name}`, evidence: { checkpointSize: old.size, size } },
      );
    }
    const proof = consistencyProof(log.tree.readNode, old.size, size, nodeTreeHasher);
    verifyConsistency(old.size, size, old.rootHash, root, proof, nodeTreeHasher);
  }
  const checkpoint: Checkpoint = {
    origin: scrollOrigin(identity, log.scroll),
    size,
    rootHash: root,
    extensions: [],
  };
  const note = signNote(formatCheckpoint(checkpoint), [signer]);
  writeFileDurably(log.dataDir.checkpointFile(log.scroll), note);
  writeFileDurably(
    log.dataDir.rootFile(log.scroll),
    formatRootFile({
      title: log.scroll.title,
      engineId: log.scroll.engineId,
      merkleRoot: root,
      events: size,
      updatedAt: now.toISOString(),
    }),
  );
  return { checkpoint, note };
}

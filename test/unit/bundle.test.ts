import { describe, expect, it } from 'vitest';
import { utf8 } from '../../src/core/bytes.js';
import { BUNDLE_FORMAT, formatBundle, verifyBundle, type ReceiptBundle } from '../../src/core/bundle.js';
import { formatCheckpoint } from '../../src/core/checkpoint.js';
import {
  defaultTreeHasher,
  inclusionProof,
  nodesCompletedByAppend,
  rootAt,
  type NodeHashReader,
} from '../../src/core/merkle.js';
import { generateNoteKey, parseSignerKey, parseVerifierKey, signNote } from '../../src/core/note.js';
import { sealDraft, validateDraft } from '../../src/core/receipt.js';
import { formatRootFile, parseRootFile } from '../../src/core/root-file.js';
import { formatTlogProof } from '../../src/core/tlog-proof.js';
import { codeOf } from '../helpers/errors.js';

const ORIGIN = 'vaultmesh.local/vault-01/offsec';
const key = generateNoteKey('vaultmesh.local/vault-01', new Uint8Array(32).fill(7));
const signer = parseSignerKey(key.skey);
const verifier = parseVerifierKey(key.vkey);

/** A scroll of `n` receipts held in memory, the way the ledger would write it. */
function scroll(n: number) {
  const lines = Array.from({ length: n }, (_, seq) => {
    const draft = validateDraft({
      scroll: 'offsec',
      type: 'offsec_incident',
      body: { incident_id: `node-${seq}` },
    });
    return sealDraft(draft, seq, '2026-11-23T07:00:00.000Z', 'did:vm:node:vault-01').line;
  });
  const levels: Uint8Array[][] = [];
  const read: NodeHashReader = (level, index) => levels[level]![index]!;
  const nodes = nodesCompletedByAppend(
    read,
    0,
    lines.map((l) => defaultTreeHasher.hashLeaf(utf8(l))),
  );
  for (const node of nodes) (levels[node.level] ??= [])[node.index] = node.hash;
  return { lines, read };
}

function bundleFor(
  n: number,
  seq: number,
  mutate: (b: { receipt: string; proof: string; origin: string }) => void = () => {},
) {
  const { lines, read } = scroll(n);
  const note = signNote(
    formatCheckpoint({ origin: ORIGIN, size: n, rootHash: rootAt(read, n), extensions: [] }),
    [signer],
  );
  const bundle: ReceiptBundle = {
    format: BUNDLE_FORMAT,
    origin: ORIGIN,
    receipt: lines[seq]!,
    proof: formatTlogProof({ index: seq, hashes: inclusionProof(read, seq, n), checkpoint: note }),
  };
  mutate(bundle);
  return formatBundle(bundle);
}

describe('receipt bundles (verified with core only, as a browser would)', () => {
  it('verifies every receipt of a scroll against its signed checkpoint', () => {
    for (const seq of [0, 4, 6]) {
      const verified = verifyBundle(bundleFor(7, seq), [verifier]);
      expect(verified.receipt.seq).toBe(seq);
      expect(verified.checkpoint.size).toBe(7);
      expect(verified.signedBy[0]?.name).toBe('vaultmesh.local/vault-01');
    }
  });

  it('refuses a bundle whose receipt, proof, origin or signer is not the real one', () => {
    const otherKey = parseVerifierKey(
      generateNoteKey('vaultmesh.local/vault-01', new Uint8Array(32).fill(9)).vkey,
    );
    expect(codeOf(() => verifyBundle(bundleFor(7, 4), [otherKey]))).toBe('UNKNOWN_SIGNER');
    const edited = bundleFor(7, 4, (b) => (b.receipt = b.receipt.replace('node-4', 'node-5')));
    expect(codeOf(() => verifyBundle(edited, [verifier]))).toBe('BUNDLE_INVALID');
    const moved = bundleFor(7, 4, (b) => (b.proof = b.proof.replace('index 4', 'index 5')));
    expect(codeOf(() => verifyBundle(moved, [verifier]))).toBe('BUNDLE_INVALID');
    const foreign = bundleFor(7, 4, (b) => (b.origin = 'vaultmesh.local/vault-01/drills'));
    expect(codeOf(() => verifyBundle(foreign, [verifier]))).toBe('CHECKPOINT_PARSE');
    const { lines } = scroll(7);
    const swapped = bundleFor(7, 4, (b) => (b.receipt = lines[4]!.replace('"seq":4', '"seq":4 ')));
    expect(codeOf(() => verifyBundle(swapped, [verifier]))).toBe('BUNDLE_INVALID');
    expect(codeOf(() => verifyBundle('{"format":"x"}', [verifier]))).toBe('BUNDLE_PARSE');
    expect(codeOf(() => verifyBundle('not json', [verifier]))).toBe('BUNDLE_PARSE');
  });

  it('refuses a proof that leads to another root', () => {
    const forged = bundleFor(7, 4, (b) => {
      const lines = b.proof.split('\n');
      lines[2] = 'A'.repeat(43) + '=';
      b.proof = lines.join('\n');
    });
    expect(codeOf(() => verifyBundle(forged, [verifier]))).toBe('INCLUSION_MISMATCH');
  });
});

describe('ROOT files', () => {
  it('round-trips the seed format', () => {
    const root = {
      title: 'Console',
      engineId: 'engine:console',
      merkleRoot: new Uint8Array(32).fill(1),
      events: 128,
      updatedAt: '2026-11-23T07:00:00.000Z',
    };
    const text = formatRootFile(root);
    expect(text.split('\n')[0]).toBe('# VaultMesh Console Root');
    expect(parseRootFile(text)).toEqual(root);
    expect(codeOf(() => parseRootFile(text.replace('events=128', 'events=-1')))).toBe('INVALID_ARGUMENT');
  });
});

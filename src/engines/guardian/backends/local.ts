/**
 * The local backend: the node's own signature over the anchored digest, as a C2SP signed note. It
 * proves nothing about outside time — only that this node vouched for these heads at that moment —
 * but it is always available, and an auditor verifies it with the node's verifier key alone.
 */
import { fromUtf8, toHex, utf8 } from '../../../core/bytes.js';
import { VaultMeshError } from '../../../core/errors.js';
import { openNote, signNote, type NoteSigner, type NoteVerifier } from '../../../core/note.js';
import type { AnchorBackend, EvidenceFile, VerifiedAnchor } from '../backend.js';

const FILE = 'anchor.note';

function statement(digest: Uint8Array, time: string): string {
  return `vaultmesh.anchor@v1\nsha256:${toHex(digest)}\n${time}\n`;
}

export function createLocalBackend(
  signer: NoteSigner,
  verifier: NoteVerifier,
  clock: () => Date,
): AnchorBackend {
  return {
    kind: 'local',
    name: 'local',
    endpoint: 'local',
    async submit({ digest }) {
      const time = clock().toISOString();
      return {
        status: 'confirmed',
        files: [{ name: FILE, bytes: utf8(signNote(statement(digest, time), [signer])) }],
        summary: { signer: signer.name },
        time,
      };
    },
    verify: async (digest, files) => verifyLocalEvidence(digest, files, verifier),
  };
}

/** Checks a local anchor's note: signed by the node, over this digest. Needs nothing but the node's key. */
export function verifyLocalEvidence(
  digest: Uint8Array,
  files: readonly EvidenceFile[],
  verifier: NoteVerifier,
): VerifiedAnchor {
  const file = files.find((f) => f.name === FILE);
  if (file === undefined) throw new VaultMeshError('BUNDLE_INVALID', `the local anchor has no ${FILE}`);
  const opened = openNote(fromUtf8(file.bytes, FILE), [verifier]);
  const time = opened.text.split('\n')[2] ?? '';
  if (opened.text !== statement(digest, time)) {
    throw new VaultMeshError('BUNDLE_INVALID', 'the local anchor note signs another digest');
  }
  return { detail: `signed by ${verifier.name} at ${time}`, time, final: true };
}

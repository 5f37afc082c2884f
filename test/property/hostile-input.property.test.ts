/**
 * Every parser of outside input either succeeds or throws a VaultMeshError with a code: never a raw
 * exception, whatever the bytes. Inputs are random text, and mutations of well-formed documents.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUNDLE_FORMAT, formatBundle, parseBundle, verifyBundle } from '../../src/core/bundle.js';
import { parseJson } from '../../src/core/canonical.js';
import { formatCheckpoint, parseCheckpoint } from '../../src/core/checkpoint.js';
import { VaultMeshError } from '../../src/core/errors.js';
import { parseHash } from '../../src/core/hash.js';
import {
  generateNoteKey,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
} from '../../src/core/note.js';
import { parseReceiptLine, sealDraft, validateDraft } from '../../src/core/receipt.js';
import { parseRootFile } from '../../src/core/root-file.js';
import { parseTlogProof } from '../../src/core/tlog-proof.js';

const key = generateNoteKey('vaultmesh.local/n1', new Uint8Array(32).fill(3));
const verifier = parseVerifierKey(key.vkey);
const checkpoint = signNote(
  formatCheckpoint({
    origin: 'vaultmesh.local/n1/offsec',
    size: 1,
    rootHash: new Uint8Array(32),
    extensions: [],
  }),
  [parseSignerKey(key.skey)],
);
const line = sealDraft(
  validateDraft({ scroll: 'offsec', type: 'offsec_incident', body: { incident_id: 'n-1' } }),
  0,
  '2026-11-23T07:00:00.000Z',
  'did:vm:node:n1',
).line;
const bundle = formatBundle({
  format: BUNDLE_FORMAT,
  origin: 'vaultmesh.local/n1/offsec',
  receipt: line,
  proof: `c2sp.org/tlog-proof@v1\nindex 0\n\n${checkpoint}`,
});

const PARSERS: Record<string, (text: string) => unknown> = {
  parseJson: (t) => parseJson(t),
  parseHash: (t) => parseHash(t),
  parseReceiptLine: (t) => parseReceiptLine(t, { scroll: 'offsec', seq: 0 }),
  parseNote: (t) => parseNote(t),
  parseCheckpoint: (t) => parseCheckpoint(t),
  parseTlogProof: (t) => parseTlogProof(t),
  parseBundle: (t) => parseBundle(t),
  verifyBundle: (t) => verifyBundle(t, [verifier]),
  parseVerifierKey: (t) => parseVerifierKey(t),
  parseRootFile: (t) => parseRootFile(t),
};

/** Well-formed documents with a few characters replaced, inserted or removed. */
function mutated(valid: string) {
  const edit = fc.record({ at: fc.nat(valid.length), cut: fc.nat(3), insert: fc.string({ maxLength: 3 }) });
  return fc
    .array(edit, { minLength: 1, maxLength: 4 })
    .map((edits) => edits.reduce((t, e) => t.slice(0, e.at) + e.insert + t.slice(e.at + e.cut), valid));
}

function failsCleanly(parse: (text: string) => unknown, text: string): void {
  try {
    parse(text);
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(VaultMeshError);
    expect((error as VaultMeshError).code).toMatch(/^[A-Z_]+$/);
  }
}

describe('parsers of outside input', () => {
  for (const [name, parse] of Object.entries(PARSERS)) {
    it(`${name} throws only VaultMeshError on arbitrary text`, () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (text) => failsCleanly(parse, text)),
        {
          numRuns: 300,
        },
      );
    });
  }

  it('every parser throws only VaultMeshError on mutated well-formed documents', () => {
    const samples = { line, checkpoint, bundle, vkey: key.vkey, json: JSON.stringify({ a: [1, 'x'] }) };
    for (const valid of Object.values(samples)) {
      fc.assert(
        fc.property(mutated(valid), (text) => {
          for (const parse of Object.values(PARSERS)) failsCleanly(parse, text);
        }),
        { numRuns: 150 },
      );
    }
  });
});

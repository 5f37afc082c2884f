/**
 * The .ots codec on random trees and random bytes: what it writes it reads back to the same bytes and
 * the same commitments, and whatever it is given it either parses or throws a VaultMeshError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/core/bytes.js';
import { VaultMeshError } from '../../src/core/errors.js';
import {
  addOp,
  allAttestations,
  applyOp,
  ATTESTATION_TAGS,
  HEADER_MAGIC,
  newDetachedTimestamp,
  newTimestamp,
  parseDetachedTimestamp,
  parseTimestamp,
  serializeDetachedTimestamp,
  serializeTimestamp,
  type Attestation,
  type Op,
  type Timestamp,
} from '../../src/core/ots.js';

const KNOWN_TAGS = new Set(Object.values(ATTESTATION_TAGS).map(toHex));

const attestationArb: fc.Arbitrary<Attestation> = fc.oneof(
  fc.record({ kind: fc.constant('pending' as const), uri: fc.stringMatching(/^[A-Za-z0-9._/:-]{0,40}$/) }),
  fc.record({
    kind: fc.constantFrom('bitcoin' as const, 'litecoin' as const, 'ethereum' as const),
    height: fc.oneof(fc.nat(1_000_000), fc.maxSafeNat()),
  }),
  fc.record({
    kind: fc.constant('unknown' as const),
    tag: fc.uint8Array({ minLength: 8, maxLength: 8 }).filter((tag) => !KNOWN_TAGS.has(toHex(tag))),
    payload: fc.uint8Array({ maxLength: 40 }),
  }),
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('append' as const, 'prepend' as const),
    arg: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({
    kind: fc.constantFrom(
      'sha1' as const,
      'ripemd160' as const,
      'sha256' as const,
      'keccak256' as const,
      'reverse' as const,
      'hexlify' as const,
    ),
  }),
);

interface Spec {
  attestations: Attestation[];
  ops: Array<{ op: Op; next: Spec }>;
}

const { spec: specArb } = fc.letrec<{ spec: Spec }>((tie) => ({
  spec: fc.record({
    attestations: fc.array(attestationArb, { maxLength: 3 }),
    ops: fc.oneof(
      { maxDepth: 4, depthIdentifier: 'ots-tree' },
      fc.constant<Spec['ops']>([]),
      fc.array(fc.record({ op: opArb, next: tie('spec') }), { minLength: 1, maxLength: 3 }),
    ),
  }),
}));

/** Grows `spec` on `ts` through addOp, as a client merging calendar answers would. */
function build(ts: Timestamp, spec: Spec): void {
  ts.attestations.push(...spec.attestations);
  for (const { op, next } of spec.ops) {
    try {
      applyOp(op, ts.msg);
    } catch {
      continue; // a hexlify chain can outgrow the message limit; the reference would refuse it too
    }
    build(addOp(ts, op), next);
  }
  // Only non-empty timestamps can be written.
  if (ts.attestations.length === 0 && ts.ops.length === 0)
    ts.attestations.push({ kind: 'bitcoin', height: 1 });
}

/** Each attestation with its commitment, as a set (the tree is a set of paths). */
function commitments(ts: Timestamp): string[] {
  const seen = new Set<string>();
  for (const { msg, attestation } of allAttestations(ts)) {
    seen.add(
      `${toHex(msg)} ${JSON.stringify(attestation, (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v))}`,
    );
  }
  return [...seen].sort();
}

function onlyVaultMeshErrors(parse: () => unknown): void {
  try {
    parse();
  } catch (e) {
    expect(e).toBeInstanceOf(VaultMeshError);
    expect((e as VaultMeshError).code).toBe('INVALID_ENCODING');
  }
}

const HEADER = toHex(HEADER_MAGIC);
const INCOMPLETE = fromHex(
  `${HEADER}010805c4f616a8e5310d19d938cfd769864d7f4ccdc2ca8b479b10af83564b097af9f010e754bf93806a7ebaa680ef7bd0114bf408f010b573e8850cfd9e63d1f043fbb6fc250e08f10457cfa5c4f0086fb1ac8d4e4eb0e70083dfe30d2ef90c8e2e2d68747470733a2f2f616c6963652e6274632e63616c656e6461722e6f70656e74696d657374616d70732e6f7267`,
);

describe('ots round trips', () => {
  it('a random tree reads back to the same bytes and the same commitments', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), specArb, (msg, spec) => {
        const ts = newTimestamp(msg);
        build(ts, spec);
        const bytes = serializeTimestamp(ts);
        const parsed = parseTimestamp(bytes, msg);
        expect(toHex(serializeTimestamp(parsed))).toBe(toHex(bytes));
        expect(commitments(parsed)).toEqual(commitments(ts));
      }),
    );
  });

  it('a random detached file reads back to the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), specArb, (digest, spec) => {
        const file = newDetachedTimestamp(digest);
        build(file.timestamp, spec);
        const bytes = serializeDetachedTimestamp(file);
        const parsed = parseDetachedTimestamp(bytes);
        expect(toHex(parsed.timestamp.msg)).toBe(toHex(digest));
        expect(toHex(serializeDetachedTimestamp(parsed))).toBe(toHex(bytes));
      }),
    );
  });
});

describe('ots hostile bytes', () => {
  it('arbitrary bytes: parsed, or refused with INVALID_ENCODING', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        onlyVaultMeshErrors(() => parseDetachedTimestamp(bytes));
        onlyVaultMeshErrors(() => parseTimestamp(bytes, new Uint8Array(32)));
      }),
      { numRuns: 1000 },
    );
  });

  it('mutations of random proofs: refused with INVALID_ENCODING, or written canonically and read back', () => {
    const edit = fc.record({
      at: fc.nat(),
      value: fc.integer({ min: 0, max: 255 }),
      how: fc.constantFrom('replace', 'insert', 'delete'),
    });
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        specArb,
        fc.array(edit, { minLength: 1, maxLength: 3 }),
        (digest, spec, edits) => {
          const file = newDetachedTimestamp(digest);
          build(file.timestamp, spec);
          const bytes = [...serializeDetachedTimestamp(file)];
          for (const { at, value, how } of edits) {
            const i = at % bytes.length;
            if (how === 'replace') bytes[i] = value;
            else if (how === 'insert') bytes.splice(i, 0, value);
            else bytes.splice(i, 1);
          }
          let parsed;
          try {
            parsed = parseDetachedTimestamp(Uint8Array.from(bytes));
          } catch (e) {
            expect(e).toBeInstanceOf(VaultMeshError);
            expect((e as VaultMeshError).code).toBe('INVALID_ENCODING');
            return;
          }
          const canonical = serializeDetachedTimestamp(parsed);
          expect(toHex(serializeDetachedTimestamp(parseDetachedTimestamp(canonical)))).toBe(toHex(canonical));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('mutations of a real proof: parsed, or refused with INVALID_ENCODING', () => {
    fc.assert(
      fc.property(
        fc.nat(INCOMPLETE.length - 1),
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom('replace', 'insert', 'delete'),
        (at, value, how) => {
          const bytes = [...INCOMPLETE];
          if (how === 'replace') bytes[at] = value;
          else if (how === 'insert') bytes.splice(at, 0, value);
          else bytes.splice(at, 1);
          onlyVaultMeshErrors(() =>
            serializeDetachedTimestamp(parseDetachedTimestamp(Uint8Array.from(bytes))),
          );
        },
      ),
      { numRuns: 1000 },
    );
  });
});

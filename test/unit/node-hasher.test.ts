import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.js';
import { defaultTreeHasher } from '../../src/core/merkle.js';
import { leafHashInPlace, nodeTreeHasher } from '../../src/ledger/node-hasher.js';

describe('the Node tree hasher', () => {
  it('agrees with the pure one on leaves of every size and on interior nodes (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (leaf, other) => {
          expect(toHex(nodeTreeHasher.hashLeaf(leaf))).toBe(toHex(defaultTreeHasher.hashLeaf(leaf)));
          const left = defaultTreeHasher.hashLeaf(leaf);
          expect(toHex(nodeTreeHasher.hashChildren(left, other))).toBe(
            toHex(defaultTreeHasher.hashChildren(left, other)),
          );
        },
      ),
    );
    expect(toHex(nodeTreeHasher.emptyRoot())).toBe(toHex(defaultTreeHasher.emptyRoot()));
  });

  it('hashes a line in place, borrowing and restoring the byte before it', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 500 }),
        fc.uint8Array({ minLength: 1, maxLength: 500 }),
        (before, line) => {
          const buffer = Buffer.concat([before, Buffer.from('\n'), line, Buffer.from('\n')]);
          const copy = Buffer.from(buffer);
          const start = before.length + 1;
          const digest = leafHashInPlace(buffer, start, start + line.length);
          expect(toHex(digest)).toBe(toHex(defaultTreeHasher.hashLeaf(line)));
          expect(buffer.equals(copy)).toBe(true);
          expect(toHex(leafHashInPlace(Buffer.from(line), 0, line.length))).toBe(
            toHex(defaultTreeHasher.hashLeaf(line)),
          );
        },
      ),
    );
  });
});

import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertJson, canonicalJson, parseJson, type JsonValue } from '../../src/core/canonical.js';
import { blake3Tagged, formatHash, parseHash } from '../../src/core/hash.js';
import {
  parseReceiptLine,
  receiptLine,
  sealDraft,
  validateDraft,
  type Receipt,
} from '../../src/core/receipt.js';
import { SCROLLS, getReceiptType, getScroll } from '../../src/core/scrolls/index.js';
import { codeOf } from '../helpers/errors.js';

const credit = {
  entry_id: 'e1',
  account: 'ops',
  amount: '12.50',
  currency: 'EUR',
  memo: 'seed',
  balance_after: '12.50',
};
const ISSUER = 'did:vm:node:vault-01';
const TS = '2026-11-23T07:00:00.000Z';

describe('RFC 8785 canonical JSON', () => {
  it('matches the RFC 8785 §3.2.2 example of number and string serialization', () => {
    // Serialization itself is the library's; parseJson would (deliberately) refuse 1E30 as an unsafe integer.
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    );
    expect(canonicalJson(input as JsonValue)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('refuses values that would not hash reproducibly, naming the path', () => {
    expect(codeOf(() => assertJson({ a: [1, Number.NaN] }))).toBe('INVALID_BODY');
    expect(() => assertJson({ a: { b: 2 ** 60 } })).toThrow(/\$\.a\.b/);
    expect(codeOf(() => assertJson({ a: undefined }))).toBe('INVALID_BODY');
    expect(codeOf(() => parseJson('{"a":'))).toBe('INVALID_JSON');
    expect(codeOf(() => parseJson('1e400'))).toBe('INVALID_BODY');
    expect(codeOf(() => parseJson('{"big":12345678901234567890}'))).toBe('INVALID_BODY');
    expect(() => parseJson('{"s":["\\ud800"]}')).toThrow(/\$\.s\[0\] holds an unpaired surrogate/);
    expect(codeOf(() => canonicalJson({ s: '\ud800' }))).toBe('INVALID_BODY');
  });
});

describe('tagged hashes', () => {
  it('computes the BLAKE3 test vector and parses its own output', () => {
    expect(blake3Tagged('abc')).toBe(
      'blake3:6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85',
    );
    expect(parseHash(blake3Tagged('abc')).algorithm).toBe('blake3');
    const digest = new Uint8Array(32).fill(0xab);
    expect(parseHash(formatHash('sha256', digest))).toEqual({ algorithm: 'sha256', digest });
  });

  it('refuses hashes without an algorithm, in upper case or of the wrong length', () => {
    for (const bad of ['6437b3ac', 'blake3:ABC', `md5:${'0'.repeat(64)}`, `sha256:${'0'.repeat(63)}`]) {
      expect(codeOf(() => parseHash(bad))).toBe('INVALID_HASH');
    }
  });
});

describe('scroll registry', () => {
  it('registers the thirteen scrolls of the seeds and the remembrancer scroll, each with its own files', () => {
    expect(SCROLLS.map((s) => s.title)).toEqual([
      'Drills',
      'Compliance',
      'Guardian',
      'Treasury',
      'Mesh',
      'OffSec',
      'Identity',
      'Observability',
      'Automation',
      'PsiField',
      'Console',
      'Federation',
      'Governance',
      'Remembrancer',
    ]);
    expect(new Set(SCROLLS.map((s) => s.file)).size).toBe(SCROLLS.length);
    expect(new Set(SCROLLS.map((s) => s.rootFile)).size).toBe(SCROLLS.length);
    expect(getScroll('PsiField').file).toBe('receipts/psi/psi_events.jsonl');
    expect(getScroll('console').rootFile).toBe('receipts/console/ROOT.console.txt');
  });

  it('knows the seed receipt types of every engine', () => {
    const count = (name: string) => getScroll(name).types.length;
    // Console: the seed's nine types, plus console_prompt and console_turn_end for the agents' own events.
    expect([count('console'), count('mesh'), count('identity'), count('governance')]).toEqual([11, 6, 9, 7]);
    expect(getReceiptType(getScroll('guardian'), 'anchor_divergence').type).toBe('anchor_divergence');
    expect(codeOf(() => getReceiptType(getScroll('treasury'), 'treasury_refund'))).toBe('UNKNOWN_TYPE');
    expect(codeOf(() => getScroll('ledgers'))).toBe('UNKNOWN_SCROLL');
  });
});

describe('receipt envelope', () => {
  it('seals a draft into the canonical line of DESIGN §2', () => {
    const draft = validateDraft({
      scroll: 'Treasury',
      type: 'treasury_credit',
      body: credit,
      tags: ['treasury', 'credit'],
    });
    const { receipt, line } = sealDraft(draft, 41, TS, ISSUER);
    expect(line).toBe(canonicalize(receipt));
    expect(receipt.root_hash).toBe(blake3Tagged(canonicalJson(credit)));
    expect(parseReceiptLine(line, { scroll: 'treasury', seq: 41 })).toEqual(receipt);
  });

  it('refuses bad drafts with the field named and nothing sealed', () => {
    expect(() =>
      validateDraft({ scroll: 'treasury', type: 'treasury_credit', body: { ...credit, amount: 12.5 } }),
    ).toThrow(/body\.amount/);
    expect(codeOf(() => validateDraft({ scroll: 'treasury', type: 'treasury_credit', body: [] }))).toBe(
      'INVALID_BODY',
    );
    expect(
      codeOf(() =>
        validateDraft({ scroll: 'treasury', type: 'treasury_credit', body: credit, tags: ['bad tag'] }),
      ),
    ).toBe('INVALID_ARGUMENT');
    const big = { ...credit, note: 'x'.repeat(2000) };
    expect(
      codeOf(() => validateDraft({ scroll: 'treasury', type: 'treasury_credit', body: big }, 1024)),
    ).toBe('BODY_TOO_LARGE');
    expect(
      codeOf(() =>
        validateDraft({
          scroll: 'treasury',
          type: 'treasury_credit',
          body: credit,
          session_id: '../etc',
        }),
      ),
    ).toBe('INVALID_ARGUMENT');
  });

  it('finds every kind of damage in a line', () => {
    const { line } = sealDraft(
      validateDraft({ scroll: 'treasury', type: 'treasury_credit', body: credit }),
      3,
      TS,
      ISSUER,
    );
    const at = { scroll: 'treasury', seq: 3 };
    expect(codeOf(() => parseReceiptLine(line.slice(0, -1), at))).toBe('LINE_CORRUPT');
    expect(codeOf(() => parseReceiptLine(line.replace('"12.50"', '"12.51"'), at))).toBe('LINE_CORRUPT');
    expect(codeOf(() => parseReceiptLine(line, { scroll: 'treasury', seq: 4 }))).toBe('SEQ_MISMATCH');
    expect(codeOf(() => parseReceiptLine(line, { scroll: 'mesh', seq: 3 }))).toBe('LINE_CORRUPT');
    expect(codeOf(() => parseReceiptLine(line.replace('{"body":{', '{"body":{ '), at))).toBe('LINE_CORRUPT');
  });

  it('composes exactly the RFC 8785 serialization for any envelope (property)', () => {
    const jsonObject = fc
      .dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }))
      .map((o) => JSON.parse(JSON.stringify(o)));
    const tag = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,10}$/);
    fc.assert(
      fc.property(
        jsonObject,
        fc.array(tag, { maxLength: 5 }),
        fc.nat(),
        fc.option(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/), { nil: undefined }),
        (body, tags, seq, session) => {
          const receipt: Receipt = {
            body,
            issuer: ISSUER,
            root_hash: blake3Tagged(canonicalJson(body)),
            scroll: 'mesh',
            seq,
            ...(session === undefined ? {} : { session_id: session }),
            tags,
            ts: TS,
            type: 'mesh_route_change',
            v: 1,
          };
          expect(receiptLine(receipt)).toBe(canonicalize(receipt));
        },
      ),
    );
  });
});

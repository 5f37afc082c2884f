import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64, utf8 } from '../../src/core/bytes.js';
import { formatCheckpoint, openCheckpoint } from '../../src/core/checkpoint.js';
import {
  cosignNote,
  generateNoteKey,
  parseSignerKey,
  parseVerifierKey,
  signNote,
} from '../../src/core/note.js';
import {
  MAX_PROOF_HASHES,
  TLOG_PROOF_HEADER,
  formatTlogProof,
  parseTlogProof,
} from '../../src/core/tlog-proof.js';
import type { TlogProof } from '../../src/core/tlog-proof.js';
import { codeOf, errorOf } from '../helpers/errors.js';

// The example in C2SP tlog-proof.md, up to its checkpoint's signature lines (which the spec elides).
const SPEC_PREFIX = [
  'c2sp.org/tlog-proof@v1',
  'extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ',
  'index 73894',
  'gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=',
  'B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=',
  'EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=',
  'RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=',
  'AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=',
  '',
  '',
].join('\n');
const SPEC_CHECKPOINT_TEXT = 'example.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n';
const SPEC_ELIDED_SIGNATURES = [
  '— example.com/fancylog hI2DJw[...]1roloI=',
  '— witness1.example mJirIklj[...]qY9v2B/5bg==',
  '— witness2.example TnKKVHLX[...]xwYwrSjgow==',
  '— witness3.example S4X82uH5[...]3oEcROGLFQ==',
  '',
].join('\n');

const log = generateNoteKey('example.com/fancylog');
const witness = generateNoteKey('witness1.example');
const logVerifier = parseVerifierKey(log.vkey);
const witnessVerifier = parseVerifierKey(witness.vkey);
const signedSpecCheckpoint = cosignNote(signNote(SPEC_CHECKPOINT_TEXT, [parseSignerKey(log.skey)]), [
  parseSignerKey(witness.skey),
]);

const smallCheckpoint = signNote(
  formatCheckpoint({
    origin: 'example.com/log',
    size: 3,
    rootHash: new Uint8Array(32).fill(9),
    extensions: [],
  }),
  [parseSignerKey(generateNoteKey('example.com/log').skey)],
);
const hash = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const h1 = toBase64(hash(1));

describe('the C2SP example', () => {
  it('parses with real signatures in place of the elided ones, and formats back byte for byte', () => {
    const text = SPEC_PREFIX + signedSpecCheckpoint;
    const p = parseTlogProof(text);
    expect(p.index).toBe(73894);
    expect(p.hashes.map(toBase64)).toEqual(SPEC_PREFIX.split('\n').slice(3, 8));
    expect(p.extra?.subarray(0, 30)).toEqual(utf8('age-v1.2.1-darwin-arm64.tar.gz'));
    expect(p.checkpoint).toBe(signedSpecCheckpoint);
    expect(formatTlogProof(p)).toBe(text);

    const opened = openCheckpoint(p.checkpoint, [logVerifier, witnessVerifier], 'example.com/fancylog');
    expect(opened.checkpoint.size).toBe(109482);
    expect(opened.verified.map((r) => r.name)).toEqual(['example.com/fancylog', 'witness1.example']);
  });

  it('rejects the example verbatim, because its signatures are elided, naming the first signature line', () => {
    const e = errorOf(() =>
      parseTlogProof(SPEC_PREFIX + SPEC_CHECKPOINT_TEXT + '\n' + SPEC_ELIDED_SIGNATURES),
    );
    expect(e.code).toBe('PROOF_PARSE');
    expect(e.evidence).toEqual({ line: 14 });
    expect(e.message).toMatch(
      /^proof checkpoint \(from line 10\): line 5: signature is not valid padded base64/,
    );
  });
});

describe('formatTlogProof and parseTlogProof', () => {
  const cases: [string, TlogProof][] = [
    ['no extra, two hashes', { index: 5, hashes: [hash(1), hash(2)], checkpoint: smallCheckpoint }],
    ['no hashes', { index: 0, hashes: [], checkpoint: smallCheckpoint }],
    ['empty extra', { index: 2, hashes: [hash(3)], checkpoint: smallCheckpoint, extra: new Uint8Array(0) }],
    [
      'binary extra',
      { index: 1, hashes: [hash(4)], checkpoint: smallCheckpoint, extra: Uint8Array.of(0, 10, 255) },
    ],
    [
      `${MAX_PROOF_HASHES} hashes, largest index`,
      {
        index: Number.MAX_SAFE_INTEGER,
        hashes: Array.from({ length: MAX_PROOF_HASHES }, (_, i) => hash(i)),
        checkpoint: smallCheckpoint,
      },
    ],
  ];

  it.each(cases)('round-trips %s', (_, proof) => {
    const text = formatTlogProof(proof);
    expect(parseTlogProof(text)).toEqual(proof);
    expect(parseTlogProof(utf8(text))).toEqual(proof);
  });

  it('writes the layout the spec gives', () => {
    const text = formatTlogProof({
      index: 5,
      hashes: [hash(1)],
      checkpoint: smallCheckpoint,
      extra: utf8('x'),
    });
    expect(text).toBe(`${TLOG_PROOF_HEADER}\nextra eA==\nindex 5\n${h1}\n\n${smallCheckpoint}`);
    expect(formatTlogProof({ index: 0, hashes: [], checkpoint: smallCheckpoint })).toBe(
      `${TLOG_PROOF_HEADER}\nindex 0\n\n${smallCheckpoint}`,
    );
  });

  it('distinguishes an empty extra line from none', () => {
    expect(parseTlogProof(`${TLOG_PROOF_HEADER}\nextra \nindex 0\n\n${smallCheckpoint}`).extra).toEqual(
      new Uint8Array(0),
    );
    expect('extra' in parseTlogProof(`${TLOG_PROOF_HEADER}\nindex 0\n\n${smallCheckpoint}`)).toBe(false);
  });

  const H = TLOG_PROOF_HEADER;
  const C = smallCheckpoint;
  const malformed: [string, string | Uint8Array, number | undefined][] = [
    ['an empty input', '', 1],
    ['a wrong header', `c2sp.org/tlog-proof@v2\nindex 0\n\n${C}`, 1],
    ['CRLF line endings', `${H}\r\nindex 0\r\n\r\n${C}`, 1],
    ['a missing index line', `${H}\n\n${C}`, 2],
    ['extra after the index', `${H}\nindex 0\nextra eA==\n\n${C}`, 3],
    ['an extra line without data separator', `${H}\nextra\nindex 0\n\n${C}`, 2],
    ['bad extra base64', `${H}\nextra not-valid-base64!!!\nindex 0\n\n${C}`, 2],
    ['unpadded extra', `${H}\nextra eA\nindex 0\n\n${C}`, 2],
    ['a non-numeric index', `${H}\nindex notanumber\n\n${C}`, 2],
    ['a negative index', `${H}\nindex -1\n\n${C}`, 2],
    ['a leading zero', `${H}\nindex 01\n\n${C}`, 2],
    ['two spaces', `${H}\nindex  1\n\n${C}`, 2],
    ['an index of 2^53', `${H}\nindex 9007199254740992\n\n${C}`, 2],
    ['a truncated index line', `${H}\nindex 1`, 2],
    ['bad hash base64', `${H}\nindex 0\nnot-valid-base64!!!\n\n${C}`, 3],
    ['a 16-byte hash', `${H}\nindex 0\n${toBase64(new Uint8Array(16))}\n\n${C}`, 3],
    ['a 33-byte hash', `${H}\nindex 0\n${h1}\n${toBase64(new Uint8Array(33))}\n\n${C}`, 4],
    ['64 hashes', `${H}\nindex 0\n${`${h1}\n`.repeat(64)}\n${C}`, 66],
    ['no blank line or checkpoint', `${H}\nindex 0\n${h1}\n`, 4],
    ['a blank line but no checkpoint', `${H}\nindex 0\n${h1}\n\n`, 5],
    ['an unsigned checkpoint', `${H}\nindex 0\n\nexample.com/log\n3\n${h1}\n`, undefined],
    [
      'a signed note that is not a checkpoint',
      `${H}\nindex 0\n\n${signNote('hello\n', [parseSignerKey(log.skey)])}`,
      undefined,
    ],
    ['trailing garbage', `${H}\nindex 0\n\n${C}garbage`, 9],
    ['a trailing garbage line', `${H}\nindex 0\n\n${C}garbage\n`, 9],
    ['a second blank line', `${H}\nindex 0\n\n\n${C}`, 4],
    ['invalid UTF-8', Uint8Array.of(...utf8(`${H}\nindex 0\n\n`), 0xff, ...utf8(C)), undefined],
  ];

  it.each(malformed)('rejects %s with PROOF_PARSE naming the line', (_, input, line) => {
    const e = errorOf(() => parseTlogProof(input));
    expect(e.code).toBe('PROOF_PARSE');
    if (line === undefined) expect(e.evidence).toBeUndefined();
    else expect(e.evidence).toEqual({ line });
  });

  it('refuses to format an invalid proof', () => {
    const ok: TlogProof = { index: 0, hashes: [], checkpoint: C };
    const bad: TlogProof[] = [
      { ...ok, index: -1 },
      { ...ok, index: 0.5 },
      { ...ok, index: 2 ** 53 },
      { ...ok, hashes: [new Uint8Array(31)] },
      { ...ok, hashes: Array.from({ length: 64 }, () => hash(0)) },
      { ...ok, checkpoint: '' },
      { ...ok, checkpoint: 'example.com/log\n3\n' },
      { ...ok, checkpoint: `${C}junk` },
    ];
    for (const p of bad)
      expect(
        codeOf(() => formatTlogProof(p)),
        JSON.stringify(p.index),
      ).toBe('INVALID_ARGUMENT');
  });

  it('leaves trust to openCheckpoint: a proof parses even when its checkpoint is signed by a stranger', () => {
    const p = parseTlogProof(formatTlogProof({ index: 0, hashes: [], checkpoint: C }));
    expect(codeOf(() => openCheckpoint(p.checkpoint, [logVerifier], 'example.com/log'))).toBe(
      'UNKNOWN_SIGNER',
    );
  });

  it('decodes hashes to 32 bytes each', () => {
    const p = parseTlogProof(`${H}\nindex 7\n${h1}\n${toBase64(hash(2))}\n\n${C}`);
    expect(p.hashes).toEqual([fromBase64(h1), hash(2)]);
  });
});

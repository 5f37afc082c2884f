import { describe, expect, it } from 'vitest';
import { concatBytes, fromBase64, toBase64, utf8 } from '../../src/core/bytes.js';
import { formatCheckpoint, openCheckpoint, parseCheckpoint } from '../../src/core/checkpoint.js';
import type { Checkpoint } from '../../src/core/checkpoint.js';
import { sha256 } from '../../src/core/hash.js';
import { generateNoteKey, parseSignerKey, parseVerifierKey, signNote } from '../../src/core/note.js';
import { codeOf, errorOf } from '../helpers/errors.js';

// The Go checksum database's key, from golang/go src/cmd/go/internal/modfetch/key.go.
const SUMDB_VKEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';
const SUMDB_ORIGIN = 'go.sum database tree';

// Tree heads signed by sum.golang.org, as quoted in foragepm/forage docs/go.md and in
// transparency-dev/trillian-tessera internal/parse tests (the latter quoted without its final newline).
const SUMDB_CHECKPOINTS = [
  'go.sum database tree\n3784599\n7uvxIZ67TZygcq/AehTD8iHYt81Ih+Zl2Y7vXZbfszQ=\n\n' +
    '— sum.golang.org Az3grn972wXskjQrsZhVGc93fTU2uOsmSTiId1Wn1lxDCup5z4ggl1/4gaUqOkMa6cMbYvjB7hn7yemNr7Zqanol/go=\n',
  'go.sum database tree\n31700353\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n\n' +
    '— sum.golang.org Az3grnmrIUEDFqHzAElIQCPNoRFRAAdFo47fooyWKMHb89k11GJh5zHIfNCOBmwn/C3YI8oW9/C8DJ87F61QqspBYwM=\n',
];

// golang.org/x/mod sumdb/tlog/note_test.go: the tree of size 123456789012 whose hash is RecordHash("hello world").
const GO_TREE = 'go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n';
// The example in C2SP tlog-checkpoint.md.
const SPEC_TEXT = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';

describe('real sum.golang.org checkpoints', () => {
  const sumdb = parseVerifierKey(SUMDB_VKEY);

  it.each(SUMDB_CHECKPOINTS)('verifies and parses %#', (note) => {
    const opened = openCheckpoint(note, [sumdb], SUMDB_ORIGIN);
    expect(opened.verified).toEqual([{ name: 'sum.golang.org', keyId: 0x033de0ae }]);
    expect(opened.checkpoint.origin).toBe(SUMDB_ORIGIN);
    expect(opened.checkpoint.extensions).toEqual([]);
    expect(formatCheckpoint(opened.checkpoint)).toBe(note.slice(0, note.indexOf('\n\n') + 1));
  });

  it('reads the tree size and root hash', () => {
    const { checkpoint } = openCheckpoint(SUMDB_CHECKPOINTS[0]!, [sumdb]);
    expect(checkpoint.size).toBe(3784599);
    expect(toBase64(checkpoint.rootHash)).toBe('7uvxIZ67TZygcq/AehTD8iHYt81Ih+Zl2Y7vXZbfszQ=');
  });

  it('rejects a forged tree size', () => {
    const forged = SUMDB_CHECKPOINTS[0]!.replace('3784599', '3784600');
    expect(codeOf(() => openCheckpoint(forged, [sumdb], SUMDB_ORIGIN))).toBe('SIGNATURE_INVALID');
  });

  it('rejects a checkpoint from another log with a hint', () => {
    const e = errorOf(() => openCheckpoint(SUMDB_CHECKPOINTS[0]!, [sumdb], 'example.com/log'));
    expect(e.code).toBe('CHECKPOINT_PARSE');
    expect(e.hint).toMatch(/different log/);
    expect(e.evidence).toEqual({ line: 1, origin: SUMDB_ORIGIN, expectedOrigin: 'example.com/log' });
  });

  it('throws UNKNOWN_SIGNER without the log key', () => {
    const other = parseVerifierKey(generateNoteKey('sum.golang.org').vkey);
    expect(codeOf(() => openCheckpoint(SUMDB_CHECKPOINTS[0]!, [other], SUMDB_ORIGIN))).toBe('UNKNOWN_SIGNER');
  });
});

describe('parseCheckpoint and formatCheckpoint', () => {
  it('parses the Go tlog golden tree, whose hash is the RFC 6962 leaf hash of "hello world"', () => {
    const cp = parseCheckpoint(GO_TREE);
    expect(cp.origin).toBe(SUMDB_ORIGIN);
    expect(cp.size).toBe(123456789012);
    expect(cp.rootHash).toEqual(sha256(concatBytes(Uint8Array.of(0), utf8('hello world'))));
    expect(formatCheckpoint(cp)).toBe(GO_TREE);
  });

  it('parses the C2SP example', () => {
    const cp = parseCheckpoint(SPEC_TEXT);
    expect(cp).toEqual({
      origin: 'example.com/behind-the-sofa',
      size: 20852163,
      rootHash: fromBase64('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I='),
      extensions: [],
    });
  });

  it('round-trips extension lines, an empty tree and the largest safe size', () => {
    const cps: Checkpoint[] = [
      { origin: 'example.com/log', size: 0, rootHash: new Uint8Array(32), extensions: [] },
      {
        origin: 'example.com/log',
        size: Number.MAX_SAFE_INTEGER,
        rootHash: new Uint8Array(32).fill(7),
        extensions: ['ext one', '— another'],
      },
    ];
    for (const cp of cps) expect(parseCheckpoint(formatCheckpoint(cp))).toEqual(cp);
    expect(formatCheckpoint(cps[1]!)).toBe(
      `example.com/log\n9007199254740991\n${toBase64(cps[1]!.rootHash)}\next one\n— another\n`,
    );
  });

  it('accepts any origin, as clients must not assume its form', () => {
    expect(parseCheckpoint(`not-${GO_TREE}`).origin).toBe('not-go.sum database tree');
  });

  const malformed: [string, string, number | undefined][] = [
    ['no final newline', GO_TREE.slice(0, -1), 3],
    ['two lines', 'go.sum database tree\n123\n', undefined],
    ['nothing', '', 1],
    ['empty origin', '\n42\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n', 1],
    [
      'hex size (Go vector)',
      'go.sum database tree\n0xabcdef\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n',
      2,
    ],
    ['negative size', 'o\n-42\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n', 2],
    ['plus sign', 'o\n+42\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n', 2],
    ['leading zero', 'o\n042\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n', 2],
    ['space in size', 'o\n 42\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n', 2],
    ['empty size', 'o\n\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n', 2],
    ['size 2^53', 'o\n9007199254740992\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n', 2],
    ['huge size', `o\n${'9'.repeat(400)}\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n`, 2],
    [
      'bad hash (Go vector)',
      'go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n',
      3,
    ],
    ['unpadded hash', 'o\n42\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs\n', 3],
    ['31-byte hash', `o\n42\n${toBase64(new Uint8Array(31))}\n`, 3],
    ['33-byte hash', `o\n42\n${toBase64(new Uint8Array(33))}\n`, 3],
    ['not base64', 'o\n42\nthisisnotright\n', 3],
    ['empty extension line', `${GO_TREE}ext\n\nmore\n`, 5],
    ['carriage return', 'o\r\n42\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n', 1],
    ['junk without newline (Go ignores it)', `${GO_TREE}JOE`, 4],
  ];

  it.each(malformed)('rejects %s, naming the line', (_, text, line) => {
    const e = errorOf(() => parseCheckpoint(text));
    expect(e.code).toBe('CHECKPOINT_PARSE');
    if (line === undefined) expect(e.evidence).toBeUndefined();
    else expect(e.evidence).toEqual({ line });
  });

  it('keeps trailing lines as extensions', () => {
    expect(parseCheckpoint(`${GO_TREE}JOE\n`).extensions).toEqual(['JOE']);
  });

  it('refuses to format what it could not parse', () => {
    const ok: Checkpoint = { origin: 'o', size: 1, rootHash: new Uint8Array(32), extensions: [] };
    const bad: Checkpoint[] = [
      { ...ok, origin: '' },
      { ...ok, origin: 'a\nb' },
      { ...ok, origin: 'a\tb' },
      { ...ok, size: -1 },
      { ...ok, size: 1.5 },
      { ...ok, size: 2 ** 53 },
      { ...ok, size: Number.NaN },
      { ...ok, rootHash: new Uint8Array(31) },
      { ...ok, extensions: [''] },
      { ...ok, extensions: ['a\nb'] },
    ];
    for (const cp of bad)
      expect(
        codeOf(() => formatCheckpoint(cp)),
        JSON.stringify(cp),
      ).toBe('INVALID_ARGUMENT');
  });
});

describe('openCheckpoint with a local key', () => {
  const { skey, vkey } = generateNoteKey('example.com/log');
  const signer = parseSignerKey(skey);
  const verifier = parseVerifierKey(vkey);
  const cp: Checkpoint = {
    origin: 'example.com/log',
    size: 5,
    rootHash: new Uint8Array(32).fill(1),
    extensions: [],
  };

  it('signs and opens a checkpoint', () => {
    const note = signNote(formatCheckpoint(cp), [signer]);
    const opened = openCheckpoint(note, [verifier], 'example.com/log');
    expect(opened.checkpoint).toEqual(cp);
    expect(opened.unverified).toEqual([]);
    expect(openCheckpoint(utf8(note), [verifier]).checkpoint).toEqual(cp);
  });

  it('rejects a validly signed note that is not a checkpoint', () => {
    const note = signNote('example.com/log\n5\n', [signer]);
    expect(codeOf(() => openCheckpoint(note, [verifier]))).toBe('CHECKPOINT_PARSE');
  });

  it('rejects a malformed note', () => {
    expect(codeOf(() => openCheckpoint(formatCheckpoint(cp), [verifier]))).toBe('NOTE_PARSE');
  });
});

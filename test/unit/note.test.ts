import { describe, expect, it } from 'vitest';
import { concatBytes, fromBase64, toBase64, toHex, utf8 } from '../../src/core/bytes.js';
import { sha256 } from '../../src/core/hash.js';
import { VaultMeshError } from '../../src/core/errors.js';
import type { ErrorCode } from '../../src/core/errors.js';
import {
  MAX_NOTE_SIGNATURES,
  cosignNote,
  findForbiddenCharacter,
  formatKeyId,
  generateNoteKey,
  isValidKeyName,
  openNote,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  verifyNote,
  vkeyFromPublicKey,
} from '../../src/core/note.js';
import { errorOf } from '../helpers/errors.js';

// Vectors from golang.org/x/mod sumdb/note/note_test.go (values only).
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG =
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG =
  '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';
const SIGNED = `${TEXT}\n${PETER_SIG}`;

const peter = parseVerifierKey(PETER_VKEY);
const enoch = parseVerifierKey(ENOCH_VKEY);

function codeOf(fn: () => unknown): ErrorCode | 'no error' | 'foreign error' {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return e instanceof VaultMeshError ? e.code : 'foreign error';
  }
}

/** Go's test inserts at byte offset 60; "— " is 4 UTF-8 bytes but 2 UTF-16 units. */
const insertAtByte60 = (line: string, s: string): string => line.slice(0, 58) + s + line.slice(58);

describe('verifier keys', () => {
  it('parses the Go vector', () => {
    expect(peter.name).toBe('PeterNeumann');
    expect(peter.keyId).toBe(0xc74f20a3);
    expect(formatKeyId(peter.keyId)).toBe('c74f20a3');
    expect(vkeyFromPublicKey('PeterNeumann', peter.publicKey)).toBe(PETER_VKEY);
  });

  it('rejects every substring and every single-character change, as Go does', () => {
    for (let i = 0; i <= PETER_VKEY.length; i++) {
      for (let j = i + 1; j <= PETER_VKEY.length; j++) {
        if (i === 0 && j === PETER_VKEY.length) continue;
        expect(
          codeOf(() => parseVerifierKey(PETER_VKEY.slice(i, j))),
          PETER_VKEY.slice(i, j),
        ).toBe('INVALID_KEY');
      }
    }
    for (let i = 0; i < PETER_VKEY.length; i++) {
      const mangled =
        PETER_VKEY.slice(0, i) + String.fromCharCode(PETER_VKEY.charCodeAt(i) + 1) + PETER_VKEY.slice(i + 1);
      expect(
        codeOf(() => parseVerifierKey(mangled)),
        mangled,
      ).toBe('INVALID_KEY');
    }
  });

  it('rejects a wrong-length key and an unknown algorithm even with matching key IDs (Go vectors)', () => {
    // Go's "BADKEY==" tail has non-zero padding bits, which strict base64 already refuses.
    expect(codeOf(() => parseVerifierKey(`PeterNeumann+cc469956+${PETER_VKEY.slice(22)}BADKEY==`))).toBe(
      'INVALID_KEY',
    );
    expect(
      errorOf(() => parseVerifierKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'))
        .message,
    ).toMatch(/signature type 0x65 is not supported/);
  });

  it('rejects a 33-byte Ed25519 key whose key ID matches', () => {
    const typed = concatBytes(fromBase64(PETER_VKEY.slice(22)), Uint8Array.of(0));
    const id = toHex(sha256(concatBytes(utf8('PeterNeumann\n'), typed)).subarray(0, 4));
    expect(errorOf(() => parseVerifierKey(`PeterNeumann+${id}+${toBase64(typed)}`)).message).toMatch(
      /must be 32 bytes, got 33/,
    );
  });

  it('rejects a key that is not a curve point even when its key ID matches', () => {
    const typed = new Uint8Array(33);
    typed[0] = 1;
    typed[1] = 2;
    const id = toHex(sha256(concatBytes(utf8('x\n'), typed)).subarray(0, 4));
    expect(errorOf(() => parseVerifierKey(`x+${id}+${toBase64(typed)}`)).message).toMatch(
      /not a valid Ed25519/,
    );
  });

  it('rejects bad names, bad key IDs and bad base64 with INVALID_KEY', () => {
    for (const vkey of [
      'Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
      '+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
      'PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
      'PeterNeumann+0xc74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
      'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T',
      'PeterNeumann+c74f20a3+',
      'PeterNeumann',
      '',
    ]) {
      expect(
        codeOf(() => parseVerifierKey(vkey)),
        vkey,
      ).toBe('INVALID_KEY');
    }
  });

  it('accepts an upper-case key ID, as Go does', () => {
    expect(parseVerifierKey('PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW').keyId).toBe(
      0xc74f20a3,
    );
  });

  it('refuses public keys of the wrong size or off the curve', () => {
    expect(codeOf(() => vkeyFromPublicKey('x', peter.publicKey.slice(0, 31)))).toBe('INVALID_KEY');
    const offCurve = new Uint8Array(32);
    offCurve[0] = 2;
    expect(codeOf(() => vkeyFromPublicKey('x', offCurve))).toBe('INVALID_KEY');
    expect(codeOf(() => vkeyFromPublicKey('a+b', peter.publicKey))).toBe('INVALID_ARGUMENT');
  });
});

describe('signer keys', () => {
  it('parses the Go vector and agrees with its verifier key', () => {
    const signer = parseSignerKey(PETER_SKEY);
    expect(signer.name).toBe('PeterNeumann');
    expect(signer.keyId).toBe(0xc74f20a3);
    expect(signer.publicKey).toEqual(peter.publicKey);
    const sig = signer.sign(utf8('hi'));
    expect(peter.verify(utf8('hi'), sig)).toBe(true);
  });

  it('rejects every substring and every single-character change, as Go does', () => {
    for (let i = 0; i <= PETER_SKEY.length; i++) {
      for (let j = i + 1; j <= PETER_SKEY.length; j++) {
        if (i === 0 && j === PETER_SKEY.length) continue;
        expect(
          codeOf(() => parseSignerKey(PETER_SKEY.slice(i, j))),
          PETER_SKEY.slice(i, j),
        ).toBe('INVALID_KEY');
      }
    }
    for (let i = 0; i < PETER_SKEY.length; i++) {
      const mangled =
        PETER_SKEY.slice(0, i) + String.fromCharCode(PETER_SKEY.charCodeAt(i) + 1) + PETER_SKEY.slice(i + 1);
      expect(
        codeOf(() => parseSignerKey(mangled)),
        mangled,
      ).toBe('INVALID_KEY');
    }
  });

  it('keeps the secret out of error messages', () => {
    const e = errorOf(() => parseSignerKey(PETER_SKEY.replace('c74f20a3', 'c74f20a4')));
    expect(e.code).toBe('INVALID_KEY');
    expect(`${e.message} ${e.hint}`).not.toContain('AYEKFALV');
  });
});

describe('generateNoteKey', () => {
  it('reproduces the Go key pair from its seed', () => {
    const seed = fromBase64('AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz').slice(1);
    expect(generateNoteKey('PeterNeumann', seed)).toEqual({ skey: PETER_SKEY, vkey: PETER_VKEY });
  });

  it('makes random, self-consistent keys', () => {
    const a = generateNoteKey('EnochRoot');
    const b = generateNoteKey('EnochRoot');
    expect(a.skey).not.toBe(b.skey);
    const signer = parseSignerKey(a.skey);
    const verifier = parseVerifierKey(a.vkey);
    expect(signer.keyId).toBe(verifier.keyId);
    const msg = utf8('hi');
    const sig = signer.sign(msg);
    expect(verifier.verify(msg, sig)).toBe(true);
    sig[0]! ^= 1;
    expect(verifier.verify(msg, sig)).toBe(false);
    sig[0]! ^= 1;
    expect(verifier.verify(utf8('ho'), sig)).toBe(false);
    expect(verifier.verify(msg, sig.slice(0, 63))).toBe(false);
  });

  it('refuses bad names and seeds', () => {
    for (const name of ['', 'a b', 'a+b', 'a\tb', 'a\u00a0b', 'a\u2028b', 'a\u0001b', 'a\ud800b']) {
      expect(
        codeOf(() => generateNoteKey(name)),
        JSON.stringify(name),
      ).toBe('INVALID_ARGUMENT');
    }
    expect(codeOf(() => generateNoteKey('ok', new Uint8Array(31)))).toBe('INVALID_ARGUMENT');
  });
});

describe('key names and note characters', () => {
  it('follows the spec: non-empty, no Unicode space, no plus', () => {
    expect(isValidKeyName('example.com/log42')).toBe(true);
    expect(isValidKeyName('quasimodo.example/salvatore')).toBe(true);
    expect(isValidKeyName('naïve')).toBe(true);
    expect(isValidKeyName('a\u3000b')).toBe(false);
    expect(isValidKeyName('a\u0085b')).toBe(false);
  });

  it('finds control characters and unpaired surrogates', () => {
    expect(findForbiddenCharacter('ok\nfine 😀\n')).toBeUndefined();
    expect(findForbiddenCharacter('a\rb')).toEqual({ index: 1, reason: 'control character U+000d' });
    expect(findForbiddenCharacter('ab\udc00')?.index).toBe(2);
    expect(findForbiddenCharacter('\ud83d')?.reason).toMatch(/unpaired surrogate/);
  });
});

describe('signNote', () => {
  const signer = parseSignerKey(PETER_SKEY);

  it('produces exactly the Go signed note', () => {
    expect(signNote(TEXT, [signer])).toBe(SIGNED);
  });

  it('replaces an existing signature by the same key, as Go does', () => {
    const bad = { name: 'PeterNeumann', keyId: 0xc74f20a3, signature: new Uint8Array(3) };
    expect(signNote(TEXT, [signer], [bad])).toBe(SIGNED);
  });

  it('keeps existing signatures by other keys, before the new ones', () => {
    const enochSig = parseNote(`${TEXT}\n${ENOCH_SIG}`).signatures;
    expect(signNote(TEXT, [signer], enochSig)).toBe(`${TEXT}\n${ENOCH_SIG}${PETER_SIG}`);
  });

  it('refuses malformed text, signers and existing signatures', () => {
    expect(codeOf(() => signNote('abc', [signer]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => signNote('a\rb\n', [signer]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => signNote(TEXT, []))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => signNote(TEXT, [{ ...signer, name: 'bad name' }]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => signNote(TEXT, [{ ...signer, keyId: 2 ** 32 }]))).toBe('INVALID_ARGUMENT');
    const badName = { name: 'a+b', keyId: 1, signature: new Uint8Array(64) };
    expect(codeOf(() => signNote(TEXT, [signer], [badName]))).toBe('INVALID_ARGUMENT');
    const empty = { name: 'other', keyId: 1, signature: new Uint8Array(0) };
    expect(codeOf(() => signNote(TEXT, [signer], [empty]))).toBe('INVALID_ARGUMENT');
    const many = Array.from({ length: MAX_NOTE_SIGNATURES }, (_, i) => ({
      name: `k${i}`,
      keyId: i,
      signature: new Uint8Array(64),
    }));
    expect(codeOf(() => signNote(TEXT, [signer], many))).toBe('INVALID_ARGUMENT');
  });

  it('signs text with blank lines inside, and it opens again', () => {
    const text = 'first\n\nthird\n\n';
    const note = signNote(text, [signer]);
    expect(openNote(note, [peter]).text).toBe(text);
  });

  it('cosigns a signed note, keeping the earlier signature', () => {
    const witness = generateNoteKey('witness.example');
    const cosigned = cosignNote(SIGNED, [parseSignerKey(witness.skey)]);
    expect(cosigned.startsWith(SIGNED)).toBe(true);
    const opened = openNote(cosigned, [peter, parseVerifierKey(witness.vkey)]);
    expect(opened.verified.map((r) => r.name)).toEqual(['PeterNeumann', 'witness.example']);
    expect(codeOf(() => cosignNote(TEXT, [signer]))).toBe('NOTE_PARSE');
  });
});

describe('openNote', () => {
  it('verifies one key and ignores the other (Go TestOpen)', () => {
    const n = openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [peter]);
    expect(n.text).toBe(TEXT);
    expect(n.verified).toEqual([{ name: 'PeterNeumann', keyId: 0xc74f20a3 }]);
    expect(n.unverified).toEqual([{ name: 'EnochRoot', keyId: 0xaf0cfe78 }]);
  });

  it('verifies both keys', () => {
    const n = openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [peter, enoch]);
    expect(n.verified.map((r) => r.name)).toEqual(['PeterNeumann', 'EnochRoot']);
    expect(n.unverified).toEqual([]);
  });

  it('accepts bytes as well as text', () => {
    expect(openNote(utf8(SIGNED), [peter]).text).toBe(TEXT);
  });

  it('throws UNKNOWN_SIGNER when no signature is from a known key, listing the signers', () => {
    const e = errorOf(() => openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, []));
    expect(e.code).toBe('UNKNOWN_SIGNER');
    expect(e.evidence).toEqual({ signers: ['PeterNeumann+c74f20a3', 'EnochRoot+af0cfe78'] });
  });

  it('treats a known key ID under another name, or a known name with another key ID, as unknown', () => {
    const misnamed = PETER_SIG.replace('PeterNeumann', 'CarmenSandiego');
    expect(codeOf(() => openNote(`${TEXT}\n${misnamed}`, [peter]))).toBe('UNKNOWN_SIGNER');
    const wrongId = PETER_SIG.replace('x08g', 'xxxx');
    expect(codeOf(() => openNote(`${TEXT}\n${wrongId}`, [peter]))).toBe('UNKNOWN_SIGNER');
    // A wrong-ID signature beside a good one is simply ignored.
    expect(openNote(`${TEXT}\n${wrongId}${PETER_SIG}`, [peter]).unverified).toEqual([
      { name: 'PeterNeumann', keyId: 0xc71c71a3 },
    ]);
  });

  it('throws SIGNATURE_INVALID for a flipped signature byte', () => {
    const raw = fromBase64(PETER_SIG.slice(15, -1));
    raw[raw.length - 1]! ^= 0x01;
    const flipped = `— PeterNeumann ${toBase64(raw)}\n`;
    const e = errorOf(() => openNote(`${TEXT}\n${flipped}`, [peter]));
    expect(e.code).toBe('SIGNATURE_INVALID');
    expect(e.evidence).toMatchObject({ key: 'PeterNeumann+c74f20a3' });
  });

  it('throws SIGNATURE_INVALID for altered text', () => {
    expect(codeOf(() => openNote(SIGNED.replace('cryptography', 'Cryptography'), [peter]))).toBe(
      'SIGNATURE_INVALID',
    );
  });

  it('throws SIGNATURE_INVALID for a lengthened signature (Go vector)', () => {
    expect(codeOf(() => openNote(`${TEXT}\n${insertAtByte60(PETER_SIG, 'ABCD')}`, [peter]))).toBe(
      'SIGNATURE_INVALID',
    );
  });

  it('rejects a bad signature by a known key even after a good one by the same key', () => {
    const bad = insertAtByte60(PETER_SIG, 'ABCD');
    expect(codeOf(() => openNote(`${TEXT}\n${PETER_SIG}${bad}`, [peter]))).toBe('SIGNATURE_INVALID');
  });

  it('lists repeated signatures once', () => {
    const note = `${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}${insertAtByte60(ENOCH_SIG, 'ABCD')}`;
    const n = openNote(note, [peter]);
    expect(n.verified).toEqual([{ name: 'PeterNeumann', keyId: 0xc74f20a3 }]);
    expect(n.unverified).toEqual([{ name: 'EnochRoot', keyId: 0xaf0cfe78 }]);
  });

  it('refuses an ambiguous verifier list only when a signature needs it (Go TestOpen)', () => {
    const e = errorOf(() => openNote(`${TEXT}\n${ENOCH_SIG}`, [enoch, peter, enoch]));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/ambiguous key EnochRoot\+af0cfe78/);
    expect(openNote(SIGNED, [enoch, peter, enoch]).verified).toHaveLength(1);
  });

  it('verifies a parsed note with verifyNote', () => {
    expect(verifyNote(parseNote(SIGNED), [peter]).verified).toHaveLength(1);
  });
});

describe('parseNote', () => {
  it('parses the Go note', () => {
    const n = parseNote(SIGNED);
    expect(n.text).toBe(TEXT);
    expect(n.signatures).toHaveLength(1);
    expect(n.signatures[0]).toMatchObject({ name: 'PeterNeumann', keyId: 0xc74f20a3 });
    expect(n.signatures[0]!.signature).toHaveLength(64);
  });

  it('splits the C2SP example at the last blank line', () => {
    const example =
      'Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n\n' +
      '— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n';
    const n = parseNote(example);
    expect(n.text).toBe(
      'Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n',
    );
    expect(n.signatures.map((s) => s.name)).toEqual(['quasimodo.example/salvatore']);
  });

  it('rejects the malformed notes of Go TestOpen with NOTE_PARSE', () => {
    const bad: (string | Uint8Array)[] = [
      TEXT,
      `${TEXT}\n`,
      `${TEXT}\n${PETER_SIG.slice(0, -1)}`,
      `\x01${TEXT}\n${PETER_SIG}`,
      Uint8Array.of(0xff, ...utf8(`${TEXT}\n${PETER_SIG}`)),
      `${TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=`,
      `${TEXT}\n${PETER_SIG}Unexpected line.\n`,
    ];
    for (const note of bad)
      expect(
        codeOf(() => parseNote(note)),
        String(note),
      ).toBe('NOTE_PARSE');
  });

  it('rejects more than 100 signatures', () => {
    expect(parseNote(`${TEXT}\n${PETER_SIG.repeat(100)}`).signatures).toHaveLength(100);
    const e = errorOf(() => openNote(`${TEXT}\n${PETER_SIG.repeat(101)}`, [peter]));
    expect(e.code).toBe('NOTE_PARSE');
    expect(e.message).toMatch(/101 signatures/);
  });

  it('names the offending line', () => {
    expect(errorOf(() => parseNote(`${TEXT}\n${PETER_SIG}Unexpected line.\n`)).evidence).toEqual({ line: 5 });
    expect(errorOf(() => parseNote(`a\nb\rc\n\n${PETER_SIG}`)).evidence).toEqual({ line: 2 });
    expect(errorOf(() => parseNote(`${TEXT}\n— PeterNeumann AAAA\n`)).evidence).toEqual({ line: 4 });
    expect(errorOf(() => parseNote(`${TEXT}\n${PETER_SIG}${PETER_SIG.slice(0, -1)}`)).evidence).toEqual({
      line: 5,
    });
  });

  it('rejects malformed signature lines', () => {
    const lines = [
      '- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n',
      '—PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n',
      '— PeterNeumann\n',
      '— PeterNeumann \n',
      '—  x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n',
      '— Peter+Neumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n',
      '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM\n',
      '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM= \n',
      '— PeterNeumann x08goA==\n',
      '— PeterNeumann x08g=\n',
    ];
    for (const line of lines)
      expect(
        codeOf(() => parseNote(`${TEXT}\n${line}`)),
        line,
      ).toBe('NOTE_PARSE');
  });

  it('rejects unpaired surrogates, which have no UTF-8 form', () => {
    expect(codeOf(() => parseNote(`\ud800${TEXT}\n${PETER_SIG}`))).toBe('NOTE_PARSE');
  });
});

/**
 * Known answers for the OpenTimestamps format, from the reference implementations:
 *
 * - HELLO_WORLD, INCOMPLETE: opentimestamps-client `examples/hello-world.txt.ots` and
 *   `examples/incomplete.txt.ots`, as hex in opentimestamps/javascript-opentimestamps README.md
 *   (whose `ots info -v` output there gives the intermediate messages and the merkle root).
 * - TWO_CALENDARS, MERKLE2, KNOWN_AND_UNKNOWN: opentimestamps-client `examples/two-calendars.txt.ots`,
 *   `examples/merkle2.txt.ots`, `examples/known-and-unknown-notary.txt.ots`. The index keeps those
 *   binaries unreadable, so the hex was taken from public transcriptions and checked here: the
 *   digests are SHA-256 of the example `.txt` files (text below), the merkle2 tree matches
 *   javascript-opentimestamps `examples/merkle2.txt.ots.info`, and all parse strictly and round-trip.
 * - CALENDAR_ALICE, CALENDAR_BOB: real calendar answers for one digest, base64, from
 *   javascript-opentimestamps `test/timestamp.js` (serialize_deserialize).
 * - Serialization, notary and op vectors: python-opentimestamps `opentimestamps/tests/core/
 *   test_timestamp.py`, `test_notary.py`; opentimestamps-client `opentimestamps/tests/core/test_op.py`;
 *   javascript-opentimestamps `test/ops.js`.
 */
import { describe, expect, it } from 'vitest';
import { fromBase64, fromHex, toHex, utf8 } from '../../src/core/bytes.js';
import {
  addOp,
  allAttestations,
  applyOp,
  decodeVaruint,
  encodeVaruint,
  HEADER_MAGIC,
  mergeTimestamps,
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
import { codeOf, errorOf } from '../helpers/errors.js';

const HELLO_WORLD =
  '004f70656e54696d657374616d7073000050726f6f6600bf89e2e884e89294010803ba204e50d126e4674c005e04d82e84c21366780af1f43bd54a37816b6ab34003f1c8010100000001e482f9d32ecc3ba657b69d898010857b54457a90497982ff56f97c4ec58e6f98010000006b483045022100b253add1d1cf90844338a475a04ff13fc9e7bd242b07762dea07f5608b2de367022000b268ca9c3342b3769cdd062891317cdcef87aac310b6855e9d93898ebbe8ec0121020d8e4d107d2b339b0050efdd4b4a09245aa056048f125396374ea6a2ab0709c6ffffffff026533e605000000001976a9140bf057d40fbba6744862515f5b55a2310de5772f88aca0860100000000001976a914f00688ac000000000808f120a987f716c533913c314c78e35d35884cac943fa42cac49d2b2c69f4003f85f880808f120dec55b3487e1e3f722a49b55a7783215862785f4a3acb392846019f71dc64a9d0808f120b2ca18f485e080478e025dab3d464b416c0e1ecb6629c9aefce8c8214d0424320808f02011b0e90661196ff4b0813c3eda141bab5e91604837bdf7a0c9df37db0e3a11980808f020c34bc1a4a1093ffd148c016b1e664742914e939efabe4d3d356515914b26d9e20808f020c3e6e7c38c69f6af24c2be34ebac48257ede61ec0a21b9535e4443277be306460808f1200798bf8606e00024e5d5d54bf0c960f629dfb9dad69157455b6f2652c0e8de810808f0203f9ada6d60baa244006bb0aad51448ad2fafb9d4b6487a0999cff26b91f0f5360808f120c703019e959a8dd3faef7489bb328ba485574758e7091f01464eb65872c975c80808f020cbfefff513ff84b915e3fed6f9d799676630f8364ea2a6c7557fad94a5b5d7880808f1200be23709859913babd4460bbddf8ed213e7c8773a4b1face30f8acfdf093b7050808000588960d73d7190103f7ef15';
const INCOMPLETE =
  '004f70656e54696d657374616d7073000050726f6f6600bf89e2e884e89294010805c4f616a8e5310d19d938cfd769864d7f4ccdc2ca8b479b10af83564b097af9f010e754bf93806a7ebaa680ef7bd0114bf408f010b573e8850cfd9e63d1f043fbb6fc250e08f10457cfa5c4f0086fb1ac8d4e4eb0e70083dfe30d2ef90c8e2e2d68747470733a2f2f616c6963652e6274632e63616c656e6461722e6f70656e74696d657374616d70732e6f7267';
const TWO_CALENDARS =
  '004f70656e54696d657374616d7073000050726f6f6600bf89e2e884e892940108efaa174f68e59705757460f4f7d204bd2b535cfd194d9d945418732129404ddbf010839037eef449dec6dac322ca97347c4508fff0106b4023b6edd3a0eeeb09e5d718723b9e08f10457d46515f008eadd66b1688d55740083dfe30d2ef90c8e2e2d68747470733a2f2f616c6963652e6274632e63616c656e6461722e6f70656e74696d657374616d70732e6f7267f010a3ad701ef9f10535a84968b5a99d858008f10457d46516f008647b90ea1b270a970083dfe30d2ef90c8e2c2b68747470733a2f2f626f622e6274632e63616c656e6461722e6f70656e74696d657374616d70732e6f7267';
const MERKLE2 =
  '004f70656e54696d657374616d7073000050726f6f6600bf89e2e884e8929401088bd5a5f07b4451c29756df5eb51d194fb5b20c7e89812d877bbad30d871c582ff010b63d8f213d047298b8ab4595acd8e5d008f120ae59d2c0d2f5efa97df8f3cca7e85845880c102237f1a6a1b0b4c6a5ab77f49408f020026356e7972f023930ec84c213adedc4050460973935bbd2f4df3d7bd5dec55f08fff0102e12050afd7a10ea4f591ed717d35de608f10457d982dff008b1f26e2e555904770083dfe30d2ef90c8e2e2d68747470733a2f2f616c6963652e6274632e63616c656e6461722e6f70656e74696d657374616d70732e6f7267f0104aaade9c2ffb853ccff9c07681d019fd08f10457d982e0f0086644ef713071762a0083dfe30d2ef90c8e2c2b68747470733a2f2f626f622e6274632e63616c656e6461722e6f70656e74696d657374616d70732e6f7267';
const KNOWN_AND_UNKNOWN =
  '004f70656e54696d657374616d7073000050726f6f6600bf89e2e884e892940108d288b2ee212b01e3e5f6d333df3a4d53f292cc3f07b09013c0b40c8e7dcb9c03f01046d842bd5d8377e0f42041bec9bda66708fff010332c572f9c4b8d5db9d99758d48fff3408f10457e89f38f00873c6dc4d0cbc29f00083dfe30d2ef90c8e2c2b68747470733a2f2f626f622e6274632e63616c656e6461722e6f70656e74696d657374616d70732e6f7267f010e7ad29076f188033d20767602ca3a8e008f10457e89f37f00862df56371ae23d8d0001020304050607082e78787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878';

const CALENDAR_DIGEST = 'c858838f62f908c922f9cd734e49c8fa6ee9a3b8a77093ac0969cba429249412';
const CALENDAR_ALICE =
  '8BBczPrj2jYA+Qn0AvCDSQy8CPAgK/3GNIn81ORiI2xEosWE8aiMriD5lH3/Dzwg1XPcrTYI8CATjioVm1sq29q7/ZirwONKLQxf09Abt6VX039NWWmISAjwIKRGGK7ETpNlKWFBLqVJ+OfBnzQFqaey8aeHsM6hRwjuCPEEWrlDOvAI0JRMb64hdMj/AIPf4w0u+QyOLi1odHRwczovL2FsaWNlLmJ0Yy5jYWxlbmRhci5vcGVudGltZXN0YW1wcy5vcmcI8CBWBHyiGMUk78Zbk+kJxjja4WVMBMLRLx+zWxoOpBhWfAjxIFBH/lIh5oIGnCgDdTQf9xiAfRyQ6Giz7lCwR2VvmE37CPEgp0dgw4XQzlqaN0t76z2VJVJKOhRm8HkE9WI6aAXj/zUI8CBYwAfaWIjyV77RnWB1MfSfbu6/SNEK7x48lz0QrqDJpgjxIKkFvRLpe5T/n6JPCI4L7VzbzS/Xp9MaonfY8OOyStWZCPEgZ64asWA2pJXuYj+bVZog1gYp/vjJr0oAlowzRR7zzmgI8SAYJhuY0PZws3zlc+XmVVeR4n4hK6lBUuqUlXuCjeZFbwjxIB0TFFFLYP+fa/YoLZ57DtKm9D4EQ+dUfH5AN1zY9cDpCPAgl6HUR4KZ8s21108iFguIznKiNPUJ7ES0Rk4ycV0r7/kI8SCM9yWIzcsuzJhKrchiGqAycKcNG0NsfNar9bFzCj4OygjxIP4nJDRel8gHeahyO5cf+9WHx47va+CkdOp+LTGGJuBzCPFxAQAAAAFu1Kb1OPdZTBSsXgzs8Tp18Wpblm1WkHvf/SBp6d1IgAAAAAAXFgAUslWGeF7P6wUjQLIFPK/EQ/I1RU79////AjgyZQAAAAAAF6kUzLsfa89CgbzKwpSNlYPbGCE66WWHAAAAAAAAAAAiaiDwBMzcBwAICPAgWomEKT/NAbr554SbVy5U90C/b3vY1LaGrnYWX2gj9CIICPAg5ey7k590AuWthx5TBFHBG8UjeEXhiKYrHMfny5H8bDcICPAgsLJ/+vK9GjkA81Ju8Bk6N4hP5v30Rl2B27wTG0XSWL4ICPAgklfG6Boz5MPPtnwrmgmlNgcvTkH3aHSfdXJS2agHB1IICPAg38OKTU9JqJ/tc8YtYI2ylyYDs1CIz+fXzR68NEMkCsMICPEg4cIThkqyMGejkdB1ORVkEA2/2vzYdJ9/QYWaOzLelPkICPAgtqzm4JJ2BQ9nitNQCzdauG0tZ98wBRFB9Kaq8EJ9R7YICPAgf5luShZ1D9DnZs5NleEYNzuZSRFvsr9+2eGBF5PqGqEICPEgIAylN+xp1POS8abkwRAavm2Y4E5enSiqt/ZSJ9Pt4XYICPEgPO5oz9/CGhj01cmK4C1HCW9c0hBWNJGMcvJza7QUcykICPAg1X880qiy/qT5kK73Hbdkd9VVCuSW4HpW56kiHqrko78ICPAgcvEDsq5sk/z8drJUu2Mwgf42leo0/937YHtiS4sfoBgICAAFiJYNc9cZAQPNuR8=';
const CALENDAR_BOB =
  '8BDwT6khsZrtv1BAULQSWYq4CPAgMt+TgQkEzLPogxtjMSlYsOfKr8EN0TyMc61N2dFNnK4I8CBoTlCeteZ7nMtN3fVbFuUksi5phQj8ryKS4v2xmCxcbgjxBFq5QzrwCE8Bj+rhL1Vv/wCD3+MNLvkMjiwraHR0cHM6Ly9ib2IuYnRjLmNhbGVuZGFyLm9wZW50aW1lc3RhbXBzLm9yZwjxIEb4yUZCFUFW74EhzhUGW4BiU7ulcp0Qk0N3Q7/L6Si1CPEg66TbJUViy1WntuQ/WOVRdPQQagy+S6ce4urTzfq3718I8SA/ggTUy3tlfB1bj7sVV9/xSyzZz4NjWZU5rhT4yllcvQjxIKbo/3jrimpFl4lmOCi5csr6CScXp0NJfZ95tFopR3vjCPEgk68/PQT1dIjZqBnpx06r6PHGADfL+iYUX4KX0pQc2ZQI8CBgiFzPYrFZEPXdiewi1Zun2sw2OWojuYfUgOcgzSlSJgjxIAS5mL/miIoUAHFU63aB4BaYeGNoEwpClnxUHfireSsyCPAgukSIEKll/0Bup9f1mP15NybSZmJbiujgJ9Kooi98P/8I8SDXxUxbSqT1OyL/pImNNaFe8ozDOw4+l+hw0pbFfnEX7QjxINI6E8haP+pKCNOAnacB5q2fp/Xnc31aKH+zXjF8DweuCPEgbB8Q5z/7swD/7mQElrhdaqFNIfgCfMQa15WLNyC/DlUI8CDN5862xCwHuuWtcPVu4wyhAz3r03Pvd++Gw2C56zF79QjxWQEAAAAB8U0E26g2KhA0luvvNogANWaC0JKf/9HHqwL3m7FxrQAAAAAAAP3///8CDUwzAAAAAAAWABQNuE08uA4/5oWDRYPWIW0HNrwSZgAAAAAAAAAAImog8ATM3AcACAjwIFPFQswDxLLV3n0nlvgNYGx9EBftsciWh6RiOq38Ls6gCAjwIKhliqZ1LZU8Pj6BHv6hDg/+Izs45W1OBxlVv0Ee3qB9CAjxICM8br4k7yxjpdu/2D0/cPyHv+BVXek9jv7JIDOj4nu7CAjwIFDU4U7azSrBcU8WnMSWfS548+WzAtOVEdo1Jj1o/7vqCAjxIMVmKnQSccupOdbdrx9TqIl6ipQTVcbeJmCcGmV1CNLLCAjxIPiyB2GYbN4nhR+Mmlxs8K/duwYcsrTN9BcvlSKrYyh6CAjxIMNwTm4Fl/t8mZZq/+BSbyFBMlmbE4XI7y7VY7pOeoo8CAjwIHvFUVHClQ4Ib4vSjndwspyWCstPFT0Ea5NxIf2rwAKICAjwIOXXYnsl4/cqlhCejZMPsgjrXUpr1AgqdATMN2mzNKZNCAjwIK6ZnepQvoFd10wFLot4JhDbuIIIUWi5LV0ypSVUudoVCAjwINV/PNKosv6k+ZCu9x23ZHfVVQrkluB6VuepIh6q5KO/CAjwIHLxA7KubJP8/HayVLtjMIH+NpXqNP/d+2B7YkuLH6AYCAgABYiWDXPXGQEDzbkf';

const PENDING_TAG = '83dfe30d2ef90c8e';
const ALICE = 'https://alice.btc.calendar.opentimestamps.org';
const BOB = 'https://bob.btc.calendar.opentimestamps.org';

/** An attestation of `uri` as the reference writes it: 0x00, tag, varbytes(varbytes(uri)). */
const pendingBytes = (uri: string): string =>
  `00${PENDING_TAG}${toHex(encodeVaruint(uri.length + 1))}${toHex(encodeVaruint(uri.length))}${toHex(utf8(uri))}`;

function describeOp(op: Op): string {
  return 'arg' in op ? `${op.kind} ${toHex(op.arg)}` : op.kind;
}

function describeAttestation(a: Attestation): string {
  switch (a.kind) {
    case 'pending':
      return `pending ${a.uri}`;
    case 'unknown':
      return `unknown ${toHex(a.tag)} ${toHex(a.payload)}`;
    default:
      return `${a.kind} ${a.height}`;
  }
}

/** The tree as `ots info` prints it: one line per op or attestation, forks as indented branches. */
function info(ts: Timestamp, indent = ''): string[] {
  const lines = ts.attestations.map((a) => `${indent}verify ${describeAttestation(a)}`);
  if (ts.ops.length === 1)
    return [...lines, `${indent}${describeOp(ts.ops[0]!.op)}`, ...info(ts.ops[0]!.next, indent)];
  for (const { op, next } of ts.ops)
    lines.push(`${indent} -> ${describeOp(op)}`, ...info(next, `${indent}    `));
  return lines;
}

/** The messages along a proof with no forks, root first. */
function path(ts: Timestamp): string[] {
  const msgs = [toHex(ts.msg)];
  for (let node = ts; node.ops.length === 1; node = node.ops[0]!.next)
    msgs.push(toHex(node.ops[0]!.next.msg));
  return msgs;
}

function attestationsOf(ts: Timestamp): Array<[string, string]> {
  return [...allAttestations(ts)].map(({ msg, attestation }) => [
    toHex(msg),
    describeAttestation(attestation),
  ]);
}

const serializeHex = (ts: Timestamp): string => toHex(serializeTimestamp(ts));

describe('reference example files', () => {
  it('hello-world.txt.ots: a Bitcoin attestation at block 358391, through the transaction', () => {
    const file = parseDetachedTimestamp(fromHex(HELLO_WORLD));
    expect(file.hashOp).toBe('sha256');
    // sha256("Hello World!\n")
    expect(toHex(file.timestamp.msg)).toBe(
      '03ba204e50d126e4674c005e04d82e84c21366780af1f43bd54a37816b6ab340',
    );
    expect(attestationsOf(file.timestamp)).toEqual([
      ['007ee445d23ad061af4a36b809501fab1ac4f2d7e7a739817dd0cbb7ec661b8a', 'bitcoin 358391'],
    ]);
    const msgs = path(file.timestamp);
    // `ots info -v` in the javascript-opentimestamps README: the ops recomputed from the digest.
    expect(msgs[1]).toBe('1df8859e60bc679503d16dcb870e6ce91a57e9df');
    expect(msgs[4]).toBe('9c6aa9591003377455b6f27fc71b5acfa5fbb2fa49362fa87a25ef0d799dd462');
    // The transaction id, shown byte-reversed as Bitcoin does.
    expect(toHex(fromHex(msgs[5]!).reverse())).toBe(
      '7e9f0f7d9daa2d9e51b2e22f4abe814c3f90539afa778a9bef88dc64627cb2ec',
    );
    expect(msgs.slice(-3)).toEqual([
      '0be23709859913babd4460bbddf8ed213e7c8773a4b1face30f8acfdf093b7053f10376d0aebb4647ff550b60d69ba5ad6b6809d51af6a6476e0312a9433a3bf',
      'faa6e88835c144ad73f48992bc05e691a52a9199df02450194f3a03b530dc2d7',
      '007ee445d23ad061af4a36b809501fab1ac4f2d7e7a739817dd0cbb7ec661b8a',
    ]);
    // "# Bitcoin block merkle root" in the same output: the last message, byte-reversed.
    expect(toHex(fromHex(msgs.at(-1)!).reverse())).toBe(
      '8a1b66ecb7cbd07d8139a7e7d7f2c41aab1f5009b8364aaf61d03ad245e47e00',
    );
    expect(toHex(serializeDetachedTimestamp(file))).toBe(HELLO_WORLD);
  });

  it('incomplete.txt.ots: the ops of javascript-opentimestamps examples/incomplete.txt.ots.info', () => {
    const file = parseDetachedTimestamp(fromHex(INCOMPLETE));
    expect(toHex(file.timestamp.msg)).toBe(
      '05c4f616a8e5310d19d938cfd769864d7f4ccdc2ca8b479b10af83564b097af9',
    );
    expect(info(file.timestamp)).toEqual([
      'append e754bf93806a7ebaa680ef7bd0114bf4',
      'sha256',
      'append b573e8850cfd9e63d1f043fbb6fc250e',
      'sha256',
      'prepend 57cfa5c4',
      'append 6fb1ac8d4e4eb0e7',
      `verify pending ${ALICE}`,
    ]);
    expect(toHex(serializeDetachedTimestamp(file))).toBe(INCOMPLETE);
  });

  it('merkle2.txt.ots: the tree of javascript-opentimestamps examples/merkle2.txt.ots.info', () => {
    const file = parseDetachedTimestamp(fromHex(MERKLE2));
    expect(toHex(file.timestamp.msg)).toBe(
      '8bd5a5f07b4451c29756df5eb51d194fb5b20c7e89812d877bbad30d871c582f',
    );
    expect(info(file.timestamp)).toEqual([
      'append b63d8f213d047298b8ab4595acd8e5d0',
      'sha256',
      'prepend ae59d2c0d2f5efa97df8f3cca7e85845880c102237f1a6a1b0b4c6a5ab77f494',
      'sha256',
      'append 026356e7972f023930ec84c213adedc4050460973935bbd2f4df3d7bd5dec55f',
      'sha256',
      ' -> append 2e12050afd7a10ea4f591ed717d35de6',
      '    sha256',
      '    prepend 57d982df',
      '    append b1f26e2e55590477',
      `    verify pending ${ALICE}`,
      ' -> append 4aaade9c2ffb853ccff9c07681d019fd',
      '    sha256',
      '    prepend 57d982e0',
      '    append 6644ef713071762a',
      `    verify pending ${BOB}`,
    ]);
    expect(toHex(serializeDetachedTimestamp(file))).toBe(MERKLE2);
  });

  it('two-calendars.txt.ots: one commitment per calendar, forks in the reference order', () => {
    const file = parseDetachedTimestamp(fromHex(TWO_CALENDARS));
    // sha256("This file has an (incomplete) timestamp with two different calendars.\n")
    expect(toHex(file.timestamp.msg)).toBe(
      'efaa174f68e59705757460f4f7d204bd2b535cfd194d9d945418732129404ddb',
    );
    expect(attestationsOf(file.timestamp)).toEqual([
      [
        '57d46515fdd8c2334c77b1f204338bb2178d73e523988d7dcda13259d3a099f31623755deadd66b1688d5574',
        `pending ${ALICE}`,
      ],
      [
        '57d4651676e9ac3b3b57c1584828ea5162979c96483a03c87c69a1b8614d1cbaf387e0f5647b90ea1b270a97',
        `pending ${BOB}`,
      ],
    ]);
    // Written back from a tree whose forks are in the opposite order: sorting restores the bytes.
    const fork = file.timestamp.ops[0]!.next.ops[0]!.next;
    fork.ops.reverse();
    expect(toHex(serializeDetachedTimestamp(file))).toBe(TWO_CALENDARS);
  });

  it('known-and-unknown-notary.txt.ots: the unknown notary is kept byte for byte', () => {
    const file = parseDetachedTimestamp(fromHex(KNOWN_AND_UNKNOWN));
    // sha256 of the example's text ("This file's timestamp has two attestations, ...")
    expect(toHex(file.timestamp.msg)).toBe(
      'd288b2ee212b01e3e5f6d333df3a4d53f292cc3f07b09013c0b40c8e7dcb9c03',
    );
    expect(attestationsOf(file.timestamp).map(([, a]) => a)).toEqual([
      `pending ${BOB}`,
      `unknown 0102030405060708 ${'78'.repeat(46)}`,
    ]);
    expect(toHex(serializeDetachedTimestamp(file))).toBe(KNOWN_AND_UNKNOWN);
  });

  it('calendar answers (javascript-opentimestamps test/timestamp.js): parse, round-trip, merge', () => {
    const digest = fromHex(CALENDAR_DIGEST);
    const alice = parseTimestamp(fromBase64(CALENDAR_ALICE), digest);
    const bob = parseTimestamp(fromBase64(CALENDAR_BOB), digest);
    expect(toHex(serializeTimestamp(alice))).toBe(toHex(fromBase64(CALENDAR_ALICE)));
    expect(toHex(serializeTimestamp(bob))).toBe(toHex(fromBase64(CALENDAR_BOB)));
    expect(attestationsOf(alice).map(([, a]) => a)).toEqual([`pending ${ALICE}`, 'bitcoin 515277']);

    const root = newTimestamp(digest);
    mergeTimestamps(root, alice);
    mergeTimestamps(root, bob);
    const merged = serializeHex(root);
    const kinds = attestationsOf(root).map(([, a]) => a);
    expect(kinds).toContain(`pending ${ALICE}`);
    expect(kinds).toContain(`pending ${BOB}`);
    expect(kinds.filter((a) => a.startsWith('bitcoin'))).toHaveLength(2);
    // Merging is a set union: again changes nothing, and the result reads back to itself.
    mergeTimestamps(root, bob);
    expect(serializeHex(root)).toBe(merged);
    expect(serializeHex(parseTimestamp(fromHex(merged), digest))).toBe(merged);
  });
});

describe('timestamp serialization (python-opentimestamps test_timestamp.py)', () => {
  const P = (uri: string) => pendingBytes(uri);

  it('writes attestations sorted, forks before all but the last item', () => {
    const stamp = newTimestamp(utf8('foo'));
    stamp.attestations.push({ kind: 'pending', uri: 'foobar' });
    expect(serializeHex(stamp)).toBe(P('foobar'));
    expect(toHex(parseTimestamp(serializeTimestamp(stamp), utf8('foo')).msg)).toBe(toHex(utf8('foo')));

    stamp.attestations.push({ kind: 'pending', uri: 'barfoo' });
    expect(serializeHex(stamp)).toBe(`ff${P('barfoo')}${P('foobar')}`);

    stamp.attestations.push({ kind: 'pending', uri: 'foobaz' });
    expect(serializeHex(stamp)).toBe(`ff${P('barfoo')}ff${P('foobar')}${P('foobaz')}`);

    const sha256Stamp = addOp(stamp, { kind: 'sha256' });
    expect(codeOf(() => serializeTimestamp(stamp))).toBe('INVALID_ARGUMENT');
    sha256Stamp.attestations.push({ kind: 'pending', uri: 'deeper' });
    const expected = `ff${P('barfoo')}ff${P('foobar')}ff${P('foobaz')}08${P('deeper')}`;
    expect(serializeHex(stamp)).toBe(expected);
    expect(serializeHex(parseTimestamp(fromHex(expected), utf8('foo')))).toBe(expected);
  });

  it('the detached file of the empty file', () => {
    const file = newDetachedTimestamp(
      fromHex('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'),
    );
    expect(codeOf(() => serializeDetachedTimestamp(file))).toBe('INVALID_ARGUMENT');
    file.timestamp.attestations.push({ kind: 'pending', uri: 'foobar' });
    const expected =
      `${toHex(HEADER_MAGIC)}01` +
      `08e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855${P('foobar')}`;
    expect(toHex(serializeDetachedTimestamp(file))).toBe(expected);
    expect(toHex(parseDetachedTimestamp(fromHex(expected)).timestamp.msg)).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('refuses what the reference refuses, naming the offset', () => {
    const magic = toHex(HEADER_MAGIC);
    const empty = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    const cases: Array<[string, RegExp]> = [
      ['', /bad header magic\) at offset 0/],
      [
        toHex(utf8('\x00Not a OpenTimestamps Proof \x00')) + 'bf89e2e884e8929401',
        /bad header magic\) at offset 0/,
      ],
      [`${magic}00`, /unsupported major version 0 at offset 31/],
      [`${magic}0142${'00'.repeat(32)}${P('foobar')}`, /unknown file hash op 0x42 at offset 32/],
      [
        `${magic}0108${empty}${P('foobar')}${toHex(utf8('trailing garbage'))}`,
        /16 bytes of trailing garbage.* at offset 82/,
      ],
    ];
    for (const [hex, message] of cases) {
      const error = errorOf(() => parseDetachedTimestamp(fromHex(hex)));
      expect(error.code).toBe('INVALID_ENCODING');
      expect(error.message).toMatch(message);
    }
  });

  it('an op whose result would pass 4096 bytes is refused while parsing', () => {
    const serialized = fromHex(`f00100${P('barfoo')}`);
    expect(parseTimestamp(serialized, new Uint8Array(4095).fill(0x2e)).ops[0]!.next.msg).toHaveLength(4096);
    const error = errorOf(() => parseTimestamp(serialized, new Uint8Array(4096).fill(0x2e)));
    expect(error.code).toBe('INVALID_ENCODING');
    expect(error.message).toMatch(/append would make 4097 bytes, more than 4096 at offset 0/);
  });

  it('nesting stops at 256 ops, as the reference recursion limit does', () => {
    const tail = P('barfoo');
    expect(() => parseTimestamp(fromHex('08'.repeat(255) + tail), new Uint8Array())).not.toThrow();
    const error = errorOf(() => parseTimestamp(fromHex('08'.repeat(256) + tail), new Uint8Array()));
    expect(error.code).toBe('INVALID_ENCODING');
    expect(error.message).toMatch(/nested deeper than 255 ops at offset 256/);
  });

  it('cat_sha256: append then sha256', () => {
    const left = newTimestamp(utf8('foo'));
    const leftRight = addOp(addOp(left, { kind: 'append', arg: utf8('bar') }), { kind: 'sha256' });
    expect(toHex(leftRight.msg)).toBe('c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2');
    const righter = addOp(addOp(leftRight, { kind: 'append', arg: utf8('baz') }), { kind: 'sha256' });
    expect(toHex(righter.msg)).toBe('23388b16c66f1fa37ef14af8eb081712d570813e2afb8c8ae86efa726f3b7276');
  });

  it('adding an op twice gives the same branch; merging needs the same message', () => {
    const t = newTimestamp(utf8('abcd'));
    const first = addOp(t, { kind: 'append', arg: utf8('efgh') });
    expect(addOp(t, { kind: 'append', arg: utf8('efgh') })).toBe(first);
    expect(new TextDecoder().decode(first.msg)).toBe('abcdefgh');
    expect(t.ops).toHaveLength(1);

    expect(codeOf(() => mergeTimestamps(newTimestamp(utf8('a')), newTimestamp(utf8('b'))))).toBe(
      'INVALID_ARGUMENT',
    );
    const t1 = newTimestamp(utf8('a'));
    const t2 = newTimestamp(utf8('a'));
    t2.attestations.push({ kind: 'pending', uri: 'foobar' });
    mergeTimestamps(t1, t2);
    expect(serializeHex(t1)).toBe(serializeHex(t2));
  });

  it('a repeated op in the input is one branch holding both branches’ attestations', () => {
    const ts = parseTimestamp(fromHex(`ff08${P('a')}08${P('b')}`), utf8('x'));
    expect(ts.ops).toHaveLength(1);
    expect(serializeHex(ts)).toBe(`08ff${P('a')}${P('b')}`);
  });

  it('refuses to write a tree whose branch does not match its op, or repeats an op', () => {
    const ts = newTimestamp(utf8('x'));
    ts.ops.push({
      op: { kind: 'sha256' },
      next: { msg: utf8('not a hash'), attestations: [{ kind: 'bitcoin', height: 1 }], ops: [] },
    });
    expect(errorOf(() => serializeTimestamp(ts)).message).toMatch(/does not match its branch/);
    const twice = newTimestamp(utf8('x'));
    addOp(twice, { kind: 'sha256' }).attestations.push({ kind: 'bitcoin', height: 1 });
    twice.ops.push(twice.ops[0]!);
    expect(errorOf(() => serializeTimestamp(twice)).message).toMatch(/appears twice/);
  });
});

describe('attestations (python-opentimestamps test_notary.py)', () => {
  const att = (hex: string) => parseTimestamp(fromHex(`00${hex}`), utf8('m'));

  it('an unknown attestation round-trips', () => {
    const hex = `0102030405060708 0c ${toHex(utf8('Hello World!'))}`.replaceAll(' ', '');
    const ts = att(hex);
    expect(ts.attestations).toEqual([
      { kind: 'unknown', tag: fromHex('0102030405060708'), payload: utf8('Hello World!') },
    ]);
    expect(serializeHex(ts)).toBe(`00${hex}`);
  });

  it('payloads over 8192 bytes are refused', () => {
    for (const tag of ['0102030405060708', PENDING_TAG]) {
      const error = errorOf(() => att(`${tag}8140${'78'.repeat(8193)}`));
      expect(error.code).toBe('INVALID_ENCODING');
      expect(error.message).toMatch(/length 8193 exceeds 8192 at offset 9/);
    }
  });

  it('pending URIs: allowed characters only, at most 1000 bytes, nothing after', () => {
    expect(att(`${PENDING_TAG}0706${toHex(utf8('foobar'))}`).attestations).toEqual([
      { kind: 'pending', uri: 'foobar' },
    ]);
    const bad = errorOf(() => att(`${PENDING_TAG}0706${toHex(utf8('fo%bar'))}`));
    expect(bad.message).toMatch(/URI has character 0x25 at offset 13/);
    expect(att(`${PENDING_TAG}ea07e807${'78'.repeat(1000)}`).attestations[0]).toEqual({
      kind: 'pending',
      uri: 'x'.repeat(1000),
    });
    expect(errorOf(() => att(`${PENDING_TAG}eb07e907${'78'.repeat(1001)}`)).message).toMatch(
      /length 1001 exceeds 1000 at offset 11/,
    );
    expect(errorOf(() => att(`${PENDING_TAG}0806${toHex(utf8('foobarx'))}`)).message).toMatch(
      /1 bytes of trailing garbage after the pending attestation at offset 17/,
    );
  });

  it('a Bitcoin attestation with bytes after the height is refused', () => {
    expect(att('0588960d73d71901' + '0100').attestations).toEqual([{ kind: 'bitcoin', height: 0 }]);
    expect(errorOf(() => att('0588960d73d71901' + '02' + '00' + 'ff')).message).toMatch(
      /trailing garbage after the bitcoin attestation at offset 11/,
    );
  });

  it('sorts by tag across notaries, by height, URI or payload within one', () => {
    const ts = newTimestamp(utf8('m'));
    ts.attestations.push(
      { kind: 'pending', uri: '' },
      { kind: 'unknown', tag: utf8('unknown2'), payload: new Uint8Array() },
      { kind: 'bitcoin', height: 300 },
      { kind: 'unknown', tag: utf8('unknown1'), payload: new Uint8Array() },
      { kind: 'ethereum', height: 7 },
      { kind: 'litecoin', height: 9 },
      { kind: 'bitcoin', height: 2 },
    );
    const order = parseTimestamp(serializeTimestamp(ts), utf8('m')).attestations.map(describeAttestation);
    expect(order).toEqual([
      'bitcoin 2',
      'bitcoin 300',
      'litecoin 9',
      'ethereum 7',
      `unknown ${toHex(utf8('unknown1'))} `,
      `unknown ${toHex(utf8('unknown2'))} `,
      'pending ',
    ]);
  });

  it('refuses to write what it could not read back', () => {
    const write = (a: Attestation) => {
      const ts = newTimestamp(utf8('m'));
      ts.attestations.push(a);
      return codeOf(() => serializeTimestamp(ts));
    };
    expect(write({ kind: 'pending', uri: 'fo%bar' })).toBe('INVALID_ARGUMENT');
    expect(write({ kind: 'unknown', tag: fromHex(PENDING_TAG), payload: new Uint8Array() })).toBe(
      'INVALID_ARGUMENT',
    );
    expect(write({ kind: 'unknown', tag: fromHex('0102'), payload: new Uint8Array() })).toBe(
      'INVALID_ARGUMENT',
    );
    expect(write({ kind: 'bitcoin', height: -1 })).toBe('INVALID_ARGUMENT');
  });
});

describe('ops (opentimestamps-client test_op.py, javascript-opentimestamps test/ops.js)', () => {
  const hex = (op: Op, msg: Uint8Array) => toHex(applyOp(op, msg));

  it('append and prepend', () => {
    expect(new TextDecoder().decode(applyOp({ kind: 'append', arg: utf8('suffix') }, utf8('msg')))).toBe(
      'msgsuffix',
    );
    expect(new TextDecoder().decode(applyOp({ kind: 'prepend', arg: utf8('prefix') }, utf8('msg')))).toBe(
      'prefixmsg',
    );
    expect(hex({ kind: 'append', arg: fromHex('00') }, fromHex('11'))).toBe('1100');
    expect(hex({ kind: 'prepend', arg: fromHex('00') }, fromHex('11'))).toBe('0011');
  });

  it('append and prepend limits', () => {
    for (const kind of ['append', 'prepend'] as const) {
      expect(codeOf(() => applyOp({ kind, arg: new Uint8Array() }, utf8('m')))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => applyOp({ kind, arg: new Uint8Array(4097) }, new Uint8Array()))).toBe(
        'INVALID_ARGUMENT',
      );
      expect(applyOp({ kind, arg: utf8('.') }, new Uint8Array(4095))).toHaveLength(4096);
      expect(codeOf(() => applyOp({ kind, arg: utf8('.') }, new Uint8Array(4096)))).toBe('INVALID_ARGUMENT');
    }
  });

  it('hexlify and its limits', () => {
    expect(new TextDecoder().decode(applyOp({ kind: 'hexlify' }, fromHex('00')))).toBe('00');
    expect(new TextDecoder().decode(applyOp({ kind: 'hexlify' }, fromHex('deadbeef')))).toBe('deadbeef');
    expect(applyOp({ kind: 'hexlify' }, new Uint8Array(2048))).toHaveLength(4096);
    expect(codeOf(() => applyOp({ kind: 'hexlify' }, new Uint8Array(2049)))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => applyOp({ kind: 'hexlify' }, new Uint8Array()))).toBe('INVALID_ARGUMENT');
  });

  it('reverse (the vector the reference keeps commented out)', () => {
    expect(new TextDecoder().decode(applyOp({ kind: 'reverse' }, utf8('abcd')))).toBe('dcba');
    expect(codeOf(() => applyOp({ kind: 'reverse' }, new Uint8Array()))).toBe('INVALID_ARGUMENT');
  });

  it('hashes', () => {
    expect(hex({ kind: 'sha256' }, new Uint8Array())).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(hex({ kind: 'ripemd160' }, new Uint8Array())).toBe('9c1185a5c5e9fc54612808977ee8f548b2258d31');
    expect(hex({ kind: 'sha1' }, fromHex('0a'))).toBe('adc83b19e793491b1c6ea0fd8b46cd9f32e592fc');
    expect(hex({ kind: 'keccak256' }, new Uint8Array())).toBe(
      'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470',
    );
    expect(hex({ kind: 'keccak256' }, fromHex('80'))).toBe(
      '56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421',
    );
  });

  it('ops sort by tag (sha1 before ripemd160), then by argument', () => {
    const ts = newTimestamp(utf8('m'));
    const ops: Op[] = [
      { kind: 'append', arg: fromHex('0201') },
      { kind: 'ripemd160' },
      { kind: 'append', arg: fromHex('02') },
      { kind: 'sha1' },
      { kind: 'prepend', arg: fromHex('00') },
      { kind: 'append', arg: fromHex('01ff') },
    ];
    for (const op of ops) addOp(ts, op).attestations.push({ kind: 'bitcoin', height: 1 });
    const order = parseTimestamp(serializeTimestamp(ts), utf8('m')).ops.map((e) => describeOp(e.op));
    expect(order).toEqual(['sha1', 'ripemd160', 'append 01ff', 'append 02', 'append 0201', 'prepend 00']);
  });
});

describe('varuint', () => {
  const vectors: Array<[number, string]> = [
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [16383, 'ff7f'],
    [16384, '808001'],
    [358391, 'f7ef15'],
    [Number.MAX_SAFE_INTEGER, 'ffffffffffffff0f'],
  ];

  it('encodes and decodes LEB128', () => {
    for (const [value, hex] of vectors) {
      expect(toHex(encodeVaruint(value))).toBe(hex);
      expect(decodeVaruint(fromHex(hex))).toEqual({ value, next: hex.length / 2 });
    }
    expect(decodeVaruint(fromHex('ff8001'), 1)).toEqual({ value: 128, next: 3 });
  });

  it('refuses truncated, padded, oversized and long encodings', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /truncated.* at offset 0/],
      ['80', /truncated.* at offset 1/],
      ['8000', /not minimally encoded at offset 0/],
      ['ff00', /not minimally encoded at offset 0/],
      ['8080808080808010', /exceeds 2\^53-1 at offset 0/],
      ['808080808080808001', /longer than 8 bytes at offset 0/],
    ];
    for (const [hex, message] of cases) {
      const error = errorOf(() => decodeVaruint(fromHex(hex)));
      expect(error.code).toBe('INVALID_ENCODING');
      expect(error.message).toMatch(message);
    }
    for (const bad of [-1, 1.5, 2 ** 53]) expect(codeOf(() => encodeVaruint(bad))).toBe('INVALID_ARGUMENT');
  });
});

describe('hostile input', () => {
  const hello = fromHex(HELLO_WORLD);

  it('every truncation of a real proof is INVALID_ENCODING at or before its end', () => {
    for (let n = 0; n < hello.length; n++) {
      const error = errorOf(() => parseDetachedTimestamp(hello.subarray(0, n)));
      expect(error.code).toBe('INVALID_ENCODING');
      expect(error.evidence?.offset as number).toBeLessThanOrEqual(n);
    }
  });

  it('an unknown op tag is named with its offset', () => {
    const bytes = fromHex(INCOMPLETE);
    const at = HEADER_MAGIC.length + 2 + 32;
    bytes[at] = 0x42;
    expect(errorOf(() => parseDetachedTimestamp(bytes)).message).toBe(
      `OpenTimestamps file: unknown operation tag 0x42 at offset ${at}`,
    );
  });

  it('lengths past the limits are refused before anything is allocated', () => {
    const magic = `${toHex(HEADER_MAGIC)}0108${'00'.repeat(32)}`;
    expect(errorOf(() => parseDetachedTimestamp(fromHex(`${magic}f0818001`))).message).toMatch(
      /length 16385 exceeds 4096 at offset 66/,
    );
    expect(errorOf(() => parseDetachedTimestamp(fromHex(`${magic}f000`))).message).toMatch(
      /length 0 is below 1/,
    );
    expect(errorOf(() => parseDetachedTimestamp(fromHex(`${magic}ff`))).message).toMatch(/truncated/);
  });

  it('forks that would blow a small file up to many megabytes are refused', () => {
    // Grow the message to 4000 bytes, then fork it thousands of times: each branch copies it.
    const grow = `f1a01f${'00'.repeat(4000)}`;
    const branches = Array.from(
      { length: 5000 },
      (_, i) => `fff002${i.toString(16).padStart(4, '0')}${pendingBytes('x')}`,
    );
    const bytes = fromHex(grow + branches.join('') + pendingBytes('y'));
    expect(bytes.length).toBeLessThan(100_000);
    expect(errorOf(() => parseTimestamp(bytes, new Uint8Array())).message).toMatch(/expands to more than/);
  });

  it('a node with tens of thousands of branches, repeated or not, parses and writes in linear time', () => {
    const bitcoin = (height: number) => {
      const payload = encodeVaruint(height);
      return `000588960d73d71901${toHex(encodeVaruint(payload.length))}${toHex(payload)}`;
    };
    const n = 40_000;
    const forks = Array.from({ length: n }, (_, i) => `ff${bitcoin(i)}ff08${bitcoin(i)}`).join('');
    const bytes = fromHex(`${forks}${bitcoin(n)}`);
    const started = performance.now();
    const ts = parseTimestamp(bytes, utf8('m'));
    const written = serializeTimestamp(ts);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(ts.attestations).toHaveLength(n + 1);
    // Every repeated sha256 branch is one node holding all their attestations.
    expect(ts.ops).toHaveLength(1);
    expect(ts.ops[0]!.next.attestations).toHaveLength(n);
    expect(written.length).toBeLessThan(bytes.length);
  });

  it('a different buffer later does not change a parsed tree', () => {
    const bytes = fromHex(INCOMPLETE);
    const file = parseDetachedTimestamp(bytes);
    bytes.fill(0);
    expect(toHex(serializeDetachedTimestamp(file))).toBe(INCOMPLETE);
  });

  it('a commitment is only what the ops compute: changing an argument changes the attested message', () => {
    const file = parseDetachedTimestamp(fromHex(INCOMPLETE));
    const [before] = attestationsOf(file.timestamp);
    const tampered = fromHex(INCOMPLETE);
    const argAt = HEADER_MAGIC.length + 2 + 32 + 2;
    tampered[argAt] = tampered[argAt]! ^ 1;
    const [after] = attestationsOf(parseDetachedTimestamp(tampered).timestamp);
    expect(after![0]).not.toBe(before![0]);
    expect(after![0].startsWith('57cfa5c4')).toBe(true);
  });
});

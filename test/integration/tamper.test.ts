/**
 * Tampering with a 1,000-receipt observability scroll. Every edit of the JSONL — one byte in a body, a
 * timestamp or a root hash, a deleted, swapped or appended line, a truncation — makes `vm verify`
 * exit 4 with the first finding naming the first altered line. A writer checks only what is cheap
 * on every open — the file's length and its last recorded line — and refuses to append when those
 * changed; an in-place edit further back is `vm verify`'s to find, and the writer's next checkpoint
 * still commits to the original line, so the edit is never signed into the record.
 */
import { appendFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OBSERVABILITY_FILE,
  assertBuilt,
  entryBody,
  initNode,
  jsonError,
  makeTempDir,
  runWorker,
  sha256File,
  vm,
  vmAsync,
  writeWorker,
} from '../helpers/vm.js';

assertBuilt();

const N = 1000;
const CHECKPOINT_FILE = 'receipts/observability/checkpoint';
/** The errors a writer may refuse an altered scroll with. */
const REFUSALS = ['SIDECAR_MISMATCH', 'LINE_CORRUPT', 'CONSISTENCY_MISMATCH', 'SEQ_MISMATCH'];

interface Finding {
  code: string;
  message: string;
  evidence?: Record<string, unknown>;
}

interface ScrollReport {
  scroll: string;
  ok: boolean;
  lines: number;
  recorded: number;
  checkpointSize: number;
  tornBytes: number;
  findings: Finding[];
}

let tmp: ReturnType<typeof makeTempDir>;
let template: string;
let copies = 0;

beforeAll(async () => {
  tmp = makeTempDir('tamper');
  template = join(tmp.dir, 'template');
  initNode(template);
  const script = writeWorker(tmp.dir);
  const acks = await runWorker(script, {
    dataDir: template,
    count: N,
    batchSizes: [1, 7, 50, 100, 250],
    parallel: 2,
    prefix: 't',
  });
  if (acks.length !== N) throw new Error(`worker acknowledged ${acks.length} receipts`);
  const checkpoint = vm(['checkpoint', 'observability'], { data: template });
  if (checkpoint.status !== 0) throw new Error(checkpoint.stderr);
});
afterAll(() => tmp.remove());

/** A fresh copy of the 1,000-receipt data directory. */
function copyOfTemplate(): string {
  const dir = join(tmp.dir, `copy-${++copies}`);
  cpSync(template, dir, { recursive: true });
  return dir;
}

async function verifyJson(data: string): Promise<{ status: number; report: ScrollReport }> {
  const result = await vmAsync(['--format', 'json', 'verify', 'observability'], { data });
  const parsed = JSON.parse(result.stdout) as { ok: boolean; scrolls: ScrollReport[] };
  if (parsed.scrolls.length !== 1 || parsed.ok !== parsed.scrolls[0]!.ok) {
    throw new Error(`unexpected vm verify observability output: ${result.stdout}`);
  }
  return { status: result.status, report: parsed.scrolls[0]! };
}

/** Byte offsets at which each line starts, plus the file length. */
function lineStarts(bytes: Buffer): number[] {
  const starts = [0];
  for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) starts.push(i + 1);
  return starts;
}

/** Replaces one byte of line `k` (1-based): the first byte after `marker` (offset `skip` past it). */
function changeOneByte(file: string, k: number, marker: string, skip = 0): void {
  const bytes = readFileSync(file);
  const start = lineStarts(bytes)[k - 1]!;
  const line = bytes.toString('utf8', start, bytes.indexOf(0x0a, start));
  const at = line.indexOf(marker);
  if (at < 0) throw new Error(`line ${k} has no ${marker}`);
  const offset = start + Buffer.byteLength(line.slice(0, at + marker.length)) + skip;
  const old = bytes[offset]!;
  // Stay printable and in the same character class: a digit stays a digit, a letter a letter.
  bytes[offset] = old >= 0x30 && old <= 0x38 ? old + 1 : old === 0x39 ? 0x30 : old === 0x7a ? 0x61 : old + 1;
  writeFileSync(file, bytes);
}

function rewriteLines(file: string, edit: (lines: string[]) => void): void {
  const lines = readFileSync(file, 'utf8').slice(0, -1).split('\n');
  edit(lines);
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
}

interface Variant {
  name: string;
  tamper: (file: string) => void;
  /** What the first finding must say. */
  first: { code: string | string[]; evidence: Record<string, unknown> };
  /** Whether a writer notices it on open (length or last line changed). */
  refusedByWriter: boolean;
}

const VARIANTS: Variant[] = [
  {
    name: 'one byte inside the body of line 137',
    tamper: (f) => changeOneByte(f, 137, '"memo":"memo of '),
    first: { code: 'LINE_CORRUPT', evidence: { line: 137, seq: 136 } },
    refusedByWriter: false,
  },
  {
    name: 'one byte inside the ts of line 500',
    tamper: (f) => changeOneByte(f, 500, '"ts":"', 22), // the last digit of the milliseconds
    first: { code: 'LINE_CORRUPT', evidence: { line: 500, seq: 499 } },
    refusedByWriter: false,
  },
  {
    name: 'one byte inside the root_hash of line 999',
    tamper: (f) => changeOneByte(f, 999, '"root_hash":"blake3:', 10),
    first: { code: 'LINE_CORRUPT', evidence: { line: 999, seq: 998 } },
    refusedByWriter: false,
  },
  {
    name: 'one byte inside the body of the last line (1000)',
    tamper: (f) => changeOneByte(f, 1000, '"account":"'),
    first: { code: 'LINE_CORRUPT', evidence: { line: 1000, seq: 999 } },
    refusedByWriter: true,
  },
  {
    name: 'line 250 deleted',
    tamper: (f) => rewriteLines(f, (lines) => lines.splice(249, 1)),
    first: { code: 'SEQ_MISMATCH', evidence: { line: 250, seq: 249, found: 250 } },
    refusedByWriter: true,
  },
  {
    name: 'lines 400 and 401 swapped',
    tamper: (f) =>
      rewriteLines(f, (lines) => {
        [lines[399], lines[400]] = [lines[400]!, lines[399]!];
      }),
    first: { code: 'SEQ_MISMATCH', evidence: { line: 400, seq: 399, found: 400 } },
    refusedByWriter: false,
  },
  {
    name: 'the file truncated in the middle of line 600',
    tamper: (f) => {
      const bytes = readFileSync(f);
      writeFileSync(f, bytes.subarray(0, lineStarts(bytes)[599]! + 40));
    },
    first: { code: 'LINE_CORRUPT', evidence: { lines: 599, recorded: N } },
    refusedByWriter: true,
  },
  {
    name: 'the file truncated at the line boundary after line 600',
    tamper: (f) => {
      const bytes = readFileSync(f);
      writeFileSync(f, bytes.subarray(0, lineStarts(bytes)[600]!));
    },
    first: { code: 'LINE_CORRUPT', evidence: { lines: 600, recorded: N } },
    refusedByWriter: true,
  },
  {
    name: 'the file truncated in the middle of its last line (an acknowledged, checkpointed line lost)',
    tamper: (f) => {
      const bytes = readFileSync(f);
      writeFileSync(f, bytes.subarray(0, lineStarts(bytes)[N - 1]! + 100));
    },
    first: { code: 'LINE_CORRUPT', evidence: { lines: N - 1, recorded: N } },
    refusedByWriter: true,
  },
  {
    name: 'a garbage line appended',
    tamper: (f) => appendFileSync(f, 'this is not a receipt\n'),
    first: { code: 'LINE_CORRUPT', evidence: { line: N + 1, seq: N } },
    refusedByWriter: true,
  },
];

function emitAfterTamper(data: string) {
  const body = JSON.stringify(entryBody('after-tamper'));
  return vmAsync(['--format', 'json', 'emit', 'observability', 'obs_metric_snapshot', '--body', body], {
    data,
  });
}

describe('a 1,000-receipt observability scroll', () => {
  it('verifies before anyone touches it', async () => {
    const { status, report } = await verifyJson(template);
    expect(status).toBe(0);
    expect(report).toMatchObject({
      ok: true,
      lines: N,
      recorded: N,
      checkpointSize: N,
      tornBytes: 0,
      findings: [],
    });
    const deep = vm(['verify', 'observability', '--deep'], { data: template });
    expect(deep.status, deep.stdout).toBe(0);
  });

  // Each variant works on its own copy, so they run side by side (with the test's own `expect`).
  describe.concurrent('tampered copies', () => {
    for (const variant of VARIANTS) {
      it(`${variant.name}: vm verify exits 4 and the first finding names the first altered line`, async ({
        expect,
      }) => {
        const data = copyOfTemplate();
        const file = join(data, OBSERVABILITY_FILE);
        const before = sha256File(file);
        variant.tamper(file);
        expect(sha256File(file)).not.toBe(before);

        const { status, report } = await verifyJson(data);
        expect(status).toBe(4);
        expect(report.ok).toBe(false);
        const first = report.findings[0]!;
        expect(first, JSON.stringify(report.findings.slice(0, 3))).toBeDefined();
        expect([variant.first.code].flat()).toContain(first.code);
        expect(first.evidence).toMatchObject(variant.first.evidence);
        const line = variant.first.evidence.line;
        if (typeof line === 'number') expect(first.message).toContain(`line ${line} `);
      });

      if (variant.refusedByWriter) {
        it(`${variant.name}: vm emit refuses to append onto it and leaves it unchanged`, async ({
          expect,
        }) => {
          const data = copyOfTemplate();
          const file = join(data, OBSERVABILITY_FILE);
          variant.tamper(file);
          const scroll = sha256File(file);
          const checkpoint = sha256File(join(data, CHECKPOINT_FILE));
          const result = await emitAfterTamper(data);
          expect(result.status, result.stdout).toBe(4);
          expect(REFUSALS).toContain(jsonError(result).code);
          expect(sha256File(file)).toBe(scroll);
          expect(sha256File(join(data, CHECKPOINT_FILE))).toBe(checkpoint);
        });
      } else {
        it(`${variant.name}: a writer's next checkpoint still commits to the original line`, async ({
          expect,
        }) => {
          const data = copyOfTemplate();
          const original = copyOfTemplate();
          variant.tamper(join(data, OBSERVABILITY_FILE));
          expect((await emitAfterTamper(data)).status).toBe(0);
          // The same append on an untouched copy gives the same tree, apart from the new line.
          const reference = vm(['--format', 'json', 'consistency', 'observability', String(N)], {
            data: original,
          });
          const after = vm(['--format', 'json', 'consistency', 'observability', String(N)], { data });
          expect(JSON.parse(after.stdout).oldRoot).toBe(JSON.parse(reference.stdout).oldRoot);
          const { status, report } = await verifyJson(data);
          expect(status).toBe(4);
          expect(report.findings[0]!.evidence).toMatchObject(variant.first.evidence);
        });
      }
    }
  });

  it('verify in human form says FAIL and names the line', () => {
    const data = copyOfTemplate();
    VARIANTS[0]!.tamper(join(data, OBSERVABILITY_FILE));
    const result = vm(['verify', 'observability'], { data });
    expect(result.status).toBe(4);
    expect(result.stdout).toMatch(/^FAIL observability: 1000 receipts, root [0-9a-f]{64}\n/);
    expect(result.stdout).toContain('LINE_CORRUPT: line 137 (seq 136)');
    // `vm verify` with no scroll checks them all, and fails as a whole.
    const all = vm(['verify'], { data });
    expect(all.status).toBe(4);
    expect(all.stdout).toContain('ok   drills: 0 receipts');
  });

  it('an unfinished line after every acknowledged one is not tampering: ok, with a note', async () => {
    const data = copyOfTemplate();
    const torn = '{"body":{"entry_id":"half-writ';
    appendFileSync(join(data, OBSERVABILITY_FILE), torn);
    const { status, report } = await verifyJson(data);
    expect(status).toBe(0);
    expect(report).toMatchObject({ ok: true, lines: N, recorded: N, tornBytes: torn.length, findings: [] });
    const human = vm(['verify', 'observability'], { data });
    expect(human.status).toBe(0);
    expect(human.stdout).toContain(`note: an unfinished last line of ${torn.length} bytes`);
  });
});

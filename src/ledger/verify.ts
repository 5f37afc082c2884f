/**
 * `vm verify`: recompute every leaf and the root of a scroll from its JSONL, and hold them against
 * the sidecar, the signed checkpoint and the ROOT file. The first line that differs from what was
 * recorded is named, with the reason found by parsing it. Read-only and lock-free.
 */
import { existsSync, readFileSync } from 'node:fs';
import { toHex } from '../core/bytes.js';
import { VaultMeshError, isVaultMeshError } from '../core/errors.js';
import { parseReceiptLine } from '../core/receipt.js';
import { parseRootFile } from '../core/root-file.js';
import type { ScrollDefinition } from '../core/scrolls/index.js';
import type { Ledger } from './ledger.js';
import { leafHashInPlace } from './node-hasher.js';
import type { ScrollLog } from './scroll-log.js';
import { TreeRebuildWorker, TreeRebuilder, WORKER_THRESHOLD_BYTES } from './tree-rebuild.js';

const CHUNK = 8 * 1024 * 1024;
const MAX_FINDINGS = 20;
const NEWLINE = 0x0a;

export interface VerifyOptions {
  /** Also re-parse every receipt: canonical form, envelope, body schema and body hash. */
  deep?: boolean;
  /** Scrolls at least this large rebuild their tree on a worker thread (default 16 MiB). */
  workerThresholdBytes?: number;
}

export interface ScrollVerification {
  scroll: string;
  ok: boolean;
  lines: number;
  recorded: number;
  root: string;
  checkpointSize: number | undefined;
  rootFileEvents: number | undefined;
  /** Bytes of an unfinished last line (never acknowledged; cut by the next writer). */
  tornBytes: number;
  /** Problems, first one first; each a VaultMeshError as JSON (code, message, evidence). */
  findings: ReturnType<VaultMeshError['toJSON']>[];
}

export async function verifyScroll(
  ledger: Ledger,
  scroll: ScrollDefinition,
  options: VerifyOptions = {},
): Promise<ScrollVerification> {
  const log = ledger.reader(scroll.name);
  try {
    return await new ScrollVerifier(ledger, log, options).run();
  } finally {
    log.close();
  }
}

class ScrollVerifier {
  private readonly findings: VaultMeshError[] = [];
  private readonly wantedSizes = new Set<number>();
  private capturedRoots = new Map<number, Uint8Array>();

  constructor(
    private readonly ledger: Ledger,
    private readonly log: ScrollLog,
    private readonly options: VerifyOptions,
  ) {}

  async run(): Promise<ScrollVerification> {
    const scroll = this.log.scroll;
    const checkpoint = this.guard(() => this.ledger.checkpoint(this.log)?.checkpoint);
    const rootFile = this.guard(() => {
      const path = this.ledger.dataDir.rootFile(scroll);
      return existsSync(path) ? parseRootFile(readFileSync(path, 'utf8')) : undefined;
    });
    if (checkpoint !== undefined) this.wantedSizes.add(checkpoint.size);
    if (rootFile !== undefined) this.wantedSizes.add(rootFile.events);
    const spec = { sidecarDir: this.ledger.dataDir.sidecarDir(scroll), wantedSizes: [...this.wantedSizes] };
    const rebuild =
      this.log.fileSize() >= (this.options.workerThresholdBytes ?? WORKER_THRESHOLD_BYTES)
        ? new TreeRebuildWorker(spec)
        : new TreeRebuilder(spec);
    const { lines, tornBytes } = this.scanLines(rebuild);
    const tree = await rebuild.finish();
    this.capturedRoots = tree.roots;
    if (tree.storedNodeMismatch !== undefined && this.findings.length === 0) {
      const { level, index } = tree.storedNodeMismatch;
      this.add(
        new VaultMeshError(
          'SIDECAR_MISMATCH',
          `the tree sidecar's node ${index} at level ${level} is wrong (the lines are intact)`,
          {
            hint: 'rebuild the sidecars with: vm reindex',
            evidence: { level, index, firstLeaf: index * 2 ** level },
          },
        ),
      );
    }
    // Every stored leaf and interior node was compared on the way, so the sidecar's root needs no
    // check of its own; only lines it should cover but the file lost remain to be found.
    const recorded = this.log.size;
    if (lines < recorded) {
      this.add(
        new VaultMeshError(
          'LINE_CORRUPT',
          `the file has ${lines} complete lines but ${recorded} were recorded: lines were removed or the file was truncated`,
          { evidence: { lines, recorded } },
        ),
      );
    }
    if (checkpoint !== undefined) {
      this.compareRoot('signed checkpoint', checkpoint.size, checkpoint.rootHash, lines);
    } else {
      this.add(
        new VaultMeshError('ROOT_MISMATCH', 'no signed checkpoint was published', {
          hint: `publish one with: vm checkpoint ${scroll.name}`,
        }),
      );
    }
    if (rootFile !== undefined) {
      if (rootFile.engineId !== scroll.engineId) {
        this.add(
          new VaultMeshError(
            'ROOT_MISMATCH',
            `ROOT file engine_id is ${rootFile.engineId}, expected ${scroll.engineId}`,
          ),
        );
      }
      this.compareRoot(`ROOT file ${scroll.rootFile}`, rootFile.events, rootFile.merkleRoot, lines);
    }
    return {
      scroll: scroll.name,
      ok: this.findings.length === 0,
      lines,
      recorded,
      root: toHex(tree.root),
      checkpointSize: checkpoint?.size,
      rootFileEvents: rootFile?.events,
      tornBytes,
      findings: this.findings.map((f) => f.toJSON()),
    };
  }

  /** Streams the JSONL: leaf hash of every line, compared with the sidecar; roots captured on the way. */
  private scanLines(rebuild: { add(leafHashes: Uint8Array): void }): { lines: number; tornBytes: number } {
    const fileSize = this.log.fileSize();
    let buffer = Buffer.alloc(Math.min(CHUNK, fileSize));
    let offset = 0;
    let seq = 0;
    let carry = 0; // bytes of an unfinished line kept at the front of the buffer
    while (offset < fileSize) {
      if (carry === buffer.length) buffer = Buffer.concat([buffer, Buffer.alloc(buffer.length)]); // a line longer than the buffer
      const read = this.log.readAt(
        buffer.subarray(carry, Math.min(buffer.length, carry + fileSize - offset)),
        offset,
      );
      offset += read;
      const filled = carry + read;
      const lastNewline = buffer.lastIndexOf(NEWLINE, filled - 1);
      if (lastNewline === -1) {
        carry = filled;
        continue;
      }
      const complete = buffer.subarray(0, lastNewline + 1);
      const count = this.countLines(complete);
      const expected = this.log.tree.nodes(0, seq, count);
      const expectedLeaves = expected.length / 32;
      const leaves = Buffer.allocUnsafeSlow(count * 32);
      let start = 0;
      for (let i = 0, nl = complete.indexOf(NEWLINE); nl !== -1; i++, nl = complete.indexOf(NEWLINE, start)) {
        const leaf = leafHashInPlace(complete, start, nl);
        const recorded = i < expectedLeaves;
        const differs = recorded && leaf.compare(expected, i * 32, i * 32 + 32) !== 0;
        if (this.options.deep || !recorded || differs) {
          const known = recorded ? expected.subarray(i * 32, i * 32 + 32) : undefined;
          this.checkLine(complete.toString('utf8', start, nl), seq, differs, leaf, known);
        }
        leaf.copy(leaves, i * 32);
        seq++;
        start = nl + 1;
      }
      rebuild.add(leaves);
      buffer.copyWithin(0, lastNewline + 1, filled);
      carry = filled - lastNewline - 1;
    }
    return { lines: seq, tornBytes: carry };
  }

  private checkLine(
    line: string,
    seq: number,
    differs: boolean,
    leaf: Uint8Array,
    known: Uint8Array | undefined,
  ): void {
    const where = `line ${seq + 1} (seq ${seq})`;
    try {
      parseReceiptLine(line, { scroll: this.log.scroll.name, seq });
    } catch (error) {
      if (!isVaultMeshError(error)) throw error;
      this.add(
        new VaultMeshError(error.code, error.message, {
          evidence: { line: seq + 1, seq, ...error.evidence },
        }),
      );
      return;
    }
    if (differs) {
      this.add(
        new VaultMeshError(
          'LINE_CORRUPT',
          `${where} was altered: its hash differs from the one recorded when it was appended`,
          {
            evidence: { line: seq + 1, seq, recordedLeaf: toHex(known!), computedLeaf: toHex(leaf) },
          },
        ),
      );
    }
  }

  private compareRoot(what: string, size: number, recorded: Uint8Array, lines: number): void {
    const computed = this.capturedRoots.get(size);
    if (computed === undefined) {
      this.add(
        new VaultMeshError('ROOT_MISMATCH', `${what} covers ${size} receipts but the file has ${lines}`, {
          evidence: { size, lines },
        }),
      );
    } else if (toHex(computed) !== toHex(recorded)) {
      this.add(
        new VaultMeshError(
          'ROOT_MISMATCH',
          `${what} root at size ${size} is ${toHex(recorded)}, the file gives ${toHex(computed)}`,
          {
            evidence: { size, recordedRoot: toHex(recorded), computedRoot: toHex(computed) },
          },
        ),
      );
    }
  }

  private countLines(buf: Buffer): number {
    let n = 0;
    for (let i = buf.indexOf(NEWLINE); i !== -1; i = buf.indexOf(NEWLINE, i + 1)) n++;
    return n;
  }

  private add(finding: VaultMeshError): void {
    if (this.findings.length < MAX_FINDINGS) this.findings.push(finding);
  }

  private guard<T>(read: () => T): T | undefined {
    try {
      return read();
    } catch (error) {
      if (!isVaultMeshError(error)) throw error;
      this.add(error);
      return undefined;
    }
  }
}

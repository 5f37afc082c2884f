/** `vm reindex` and `vm import`: rebuilding what is derived, and bringing in legacy JSONL. */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseJson } from '../core/canonical.js';
import { VaultMeshError, isVaultMeshError } from '../core/errors.js';
import { assertAppendable, validateDraft, type ReceiptDraft } from '../core/receipt.js';
import { getScroll } from '../core/scrolls/index.js';
import type { Ledger } from './ledger.js';
import { withLock } from './lock.js';

/** Throws the sidecars and query index away and rebuilds them from the JSONL, checking every line. */
export async function reindexScroll(
  ledger: Ledger,
  scrollName: string,
): Promise<{ scroll: string; size: number }> {
  const scroll = getScroll(scrollName);
  const dir = ledger.dataDir.sidecarDir(scroll);
  await withLock(ledger.dataDir.lockFile(scroll), ledger.identity.config.ledger.lock_timeout_ms, async () => {
    for (const name of readdirSync(dir)) {
      if (/^(level-\d+|ends)\.bin$/.test(name)) rmSync(join(dir, name));
    }
  });
  const log = await ledger.writer(scroll.name);
  await log.locked(() => undefined);
  ledger.resetQueryIndex(scroll.name);
  return { scroll: scroll.name, size: log.size };
}

export interface ImportResult {
  scroll: string;
  imported: number;
  firstSeq: number | undefined;
  lastSeq: number | undefined;
}

const IMPORT_BATCH = 1000;

/**
 * Imports legacy JSONL as the seeds' Python CLI wrote it: each object becomes the body of a receipt
 * whose type is the object's `type` (or `type` given here) and whose tags are its `tags`. Every
 * line is checked before anything is written; the first bad one is reported with its line number.
 */
export async function importLegacy(
  ledger: Ledger,
  file: string,
  scrollName: string,
  type?: string,
): Promise<ImportResult> {
  const scroll = getScroll(scrollName);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new VaultMeshError('IO_ERROR', `cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
  const drafts: ReceiptDraft[] = [];
  const maxBody = ledger.identity.config.ledger.max_body_bytes;
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const value = parseJson(line, 'line');
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new VaultMeshError('INVALID_BODY', 'line is not a JSON object');
      }
      const lineType = type ?? value['type'];
      if (typeof lineType !== 'string') {
        throw new VaultMeshError('INVALID_BODY', 'the object has no "type" field', {
          hint: 'pass --type TYPE for files without one',
        });
      }
      const tags = Array.isArray(value['tags']) ? (value['tags'] as string[]) : [];
      const draft: ReceiptDraft = { scroll: scroll.name, type: lineType, body: value, tags };
      assertAppendable(draft);
      validateDraft(draft, maxBody);
      drafts.push(draft);
    } catch (error) {
      if (!isVaultMeshError(error)) throw error;
      throw new VaultMeshError(
        'IMPORT_LINE',
        `${file} line ${i + 1}: ${error.message}; nothing was imported`,
        {
          hint: error.hint ?? 'fix or remove that line and import again',
          evidence: { line: i + 1, cause: error.code },
        },
      );
    }
  });
  let firstSeq: number | undefined;
  let lastSeq: number | undefined;
  for (let i = 0; i < drafts.length; i += IMPORT_BATCH) {
    const appended = await ledger.emit(drafts.slice(i, i + IMPORT_BATCH));
    firstSeq ??= appended[0]?.receipt.seq;
    lastSeq = appended[appended.length - 1]?.receipt.seq ?? lastSeq;
  }
  return { scroll: scroll.name, imported: drafts.length, firstSeq, lastSeq };
}

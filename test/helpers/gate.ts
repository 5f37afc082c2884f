/**
 * The design-gate checks every fold-state engine shares: its ROOT file and signed checkpoint hold
 * the tree root of its scroll, and a Guardian cycle anchors that scroll at its full size.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { toHex } from '../../src/core/bytes.js';
import { parseRootFile } from '../../src/core/root-file.js';
import type { ScrollDefinition } from '../../src/core/scrolls/index.js';
import { createLocalBackend } from '../../src/engines/guardian/backends/local.js';
import { guardianConfigSchema } from '../../src/engines/guardian/config.js';
import { runAnchorCycle } from '../../src/engines/guardian/cycle.js';
import type { Ledger } from '../../src/ledger/ledger.js';
import { loadNodeSigner } from '../../src/ledger/node-identity.js';

export function expectRootAndCheckpoint(ledger: Ledger, scroll: ScrollDefinition, receipts: number): void {
  const text = readFileSync(ledger.dataDir.rootFile(scroll), 'utf8');
  expect(text).toMatch(new RegExp(`^# VaultMesh ${scroll.title} Root\\nengine_id=${scroll.engineId}\\n`));
  const root = parseRootFile(text);
  const status = ledger.status(scroll.name);
  expect(status.size).toBe(receipts);
  expect(root.events).toBe(status.size);
  expect(toHex(root.merkleRoot)).toBe(toHex(status.root));
  expect(status.checkpointSize).toBe(status.size);
  const log = ledger.reader(scroll.name);
  try {
    const published = ledger.checkpoint(log)!;
    expect(published.note).toBe(readFileSync(ledger.dataDir.checkpointFile(scroll), 'utf8'));
    expect(published.checkpoint.size).toBe(receipts);
    expect(toHex(published.checkpoint.rootHash)).toBe(toHex(status.root));
  } finally {
    log.close();
  }
}

export async function expectAnchored(
  ledger: Ledger,
  scroll: ScrollDefinition,
  receipts: number,
): Promise<void> {
  const local = [
    createLocalBackend(loadNodeSigner(ledger.dataDir), ledger.identity.verifier, () => new Date()),
  ];
  const cycle = await runAnchorCycle(ledger, guardianConfigSchema.parse({}), local, {
    clock: () => new Date(),
  });
  expect(cycle.outcome).toBe('anchored');
  expect(cycle.heads.find((h) => h.scroll === scroll.name)?.size).toBe(receipts);
}

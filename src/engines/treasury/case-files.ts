/**
 * `cases/treasury/<settlement>/`: the contract, SIGNATURES.json (the manifest the completed
 * receipt names and hashes), ARTIFACTS.sha256 and PROOF.json. Every file is regenerated from the
 * scroll, so an execution killed after its receipt was written completes its case on the next try.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Receipt } from '../../core/receipt.js';
import type { TreasurySettlement } from '../../core/treasury/state.js';
import { caseDir, PROOF_FILE, writeCase, writeProof } from '../../ledger/case-store.js';
import type { Ledger } from '../../ledger/ledger.js';
import { withLock } from '../../ledger/lock.js';

export const SIGNATURES_FILE = 'SIGNATURES.json';

export function settlementCaseDir(ledger: Ledger, settlementId: string): string {
  return caseDir(ledger.dataDir, 'treasury', settlementId);
}

/** The manifest path a completed receipt names, relative to the data directory. */
export function manifestPath(settlementId: string): string {
  return `cases/treasury/${settlementId}/${SIGNATURES_FILE}`;
}

/**
 * Writes the case of a completed settlement unless it is already whole, holding the case's lock:
 * two processes executing the same settlement at once write it one after the other.
 */
export async function writeSettlementCase(
  ledger: Ledger,
  settlement: TreasurySettlement,
  manifest: string,
  receipt: Receipt,
): Promise<string> {
  const dir = settlementCaseDir(ledger, settlement.settlement_id);
  const parent = ledger.dataDir.casesDir('treasury');
  mkdirSync(parent, { recursive: true });
  const lock = join(parent, `.${settlement.settlement_id}.lock`);
  return withLock(lock, ledger.identity.config.ledger.lock_timeout_ms, async () => {
    if (!existsSync(join(dir, PROOF_FILE)) || !existsSync(join(dir, SIGNATURES_FILE)))
      await writeCaseFiles(ledger, settlement, manifest, receipt);
    return dir;
  });
}

async function writeCaseFiles(
  ledger: Ledger,
  settlement: TreasurySettlement,
  manifest: string,
  receipt: Receipt,
): Promise<void> {
  const dir = settlementCaseDir(ledger, settlement.settlement_id);
  const staging = mkdtempSync(join(tmpdir(), 'vm-settlement-'));
  try {
    writeFileSync(join(staging, 'contract.json'), `${JSON.stringify(settlement.contract, null, 2)}\n`);
    writeFileSync(join(staging, SIGNATURES_FILE), manifest);
    writeCase(ledger.dataDir, 'treasury', settlement.settlement_id, [
      { path: 'contract.json', from: join(staging, 'contract.json') },
      { path: SIGNATURES_FILE, from: join(staging, SIGNATURES_FILE) },
    ]);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  writeProof(dir, await ledger.bundle('treasury', receipt.seq));
}

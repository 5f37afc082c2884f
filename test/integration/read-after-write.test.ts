/**
 * Inside one process, what `emit()` acknowledged is readable at once — by query, proof bundle and
 * status — even while the writer still holds the lock with its sidecar writes buffered.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, assertBuilt, entryBody, makeTempDir } from '../helpers/vm.js';

assertBuilt();

type AppendedLike = {
  receipt: { seq: number; scroll: string; body: { entry_id?: string; incident_id?: string } };
};
type LedgerLike = {
  emit(d: unknown[]): Promise<AppendedLike[]>;
  bundle(scroll: string, seq: number): Promise<string>;
  query(scroll: string, q: { limit: number; reverse?: boolean }): { seq: number }[];
  status(scroll: string): { size: number };
  close(): Promise<void>;
};
const { initDataDir } = (await import(join(REPO, 'dist/ledger/init.js'))) as {
  initDataDir(dir: string, name: string): Promise<unknown>;
};
const { Ledger } = (await import(join(REPO, 'dist/ledger/ledger.js'))) as {
  Ledger: { open(dir: string): LedgerLike };
};

const temp = makeTempDir('read-after-write');
afterAll(() => temp.remove());

describe('emit across scrolls', () => {
  it('answers with the receipts in the order of the drafts', async () => {
    const data = join(temp.dir, 'mixed');
    await initDataDir(data, 'vault-01');
    const ledger = Ledger.open(data);
    try {
      const drafts = [
        { scroll: 'offsec', type: 'offsec_incident', body: { incident_id: 'n-0' } },
        { scroll: 'treasury', type: 'treasury_credit', body: entryBody('t-1') },
        { scroll: 'offsec', type: 'offsec_incident', body: { incident_id: 'n-2' } },
        { scroll: 'treasury', type: 'treasury_credit', body: entryBody('t-3') },
      ];
      const appended = await ledger.emit(drafts);
      expect(appended.map((a) => [a.receipt.scroll, a.receipt.seq])).toEqual([
        ['offsec', 0],
        ['treasury', 0],
        ['offsec', 1],
        ['treasury', 1],
      ]);
      expect(appended[2]!.receipt.body.incident_id).toBe('n-2');
    } finally {
      await ledger.close();
    }
  });
});

describe('reading right after an acknowledged append, in the same process', () => {
  it('finds every receipt by query, bundle and status', async () => {
    const data = join(temp.dir, 'data');
    await initDataDir(data, 'vault-01');
    const ledger = Ledger.open(data);
    try {
      for (let i = 0; i < 25; i++) {
        const [appended] = await ledger.emit([
          { scroll: 'treasury', type: 'treasury_credit', body: entryBody(`r${i}`) },
        ]);
        const seq = appended!.receipt.seq;
        expect(seq).toBe(i);
        expect(ledger.status('treasury').size).toBe(i + 1);
        expect(ledger.query('treasury', { limit: 1, reverse: true })[0]!.seq).toBe(seq);
        expect(JSON.parse(await ledger.bundle('treasury', seq)).receipt).toContain(`"seq":${seq}`);
      }
    } finally {
      await ledger.close();
    }
  });
});

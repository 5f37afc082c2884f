/**
 * The Treasury's two costs. Folding the books: every receipt checked against its schema and the
 * rules, amounts as bigint minor units, against the raw limit of summing the same amounts into a
 * Map. Recording a debit through the engine (decided on the books under the scroll's lock, then
 * appended and checkpointed) against appending and checkpointing the same-sized receipt with no
 * check.
 */
import { foldAll } from '../../core/fold.js';
import type { Receipt } from '../../core/receipt.js';
import { treasuryFold } from '../../core/treasury/fold.js';
import { formatAmount } from '../../core/treasury/money.js';
import { parseOperationInput } from '../../engines/framework/input.js';
import { treasuryEngine } from '../../engines/treasury/index.js';
import { initDataDir } from '../../ledger/init.js';
import { Ledger } from '../../ledger/ledger.js';
import type { Benchmark } from '../context.js';
import { makeRow } from '../report.js';
import { seededRandom, median, nowMs } from '../stats.js';
import { withTempDir } from '../temp.js';

const ACCOUNTS = 200;
const FOLD_SAMPLES = 5;
const DEBIT_SAMPLES = 3;
const FOLD_BAR_MS_PER_100K = 2000;
const DEBIT_BAR_RATIO = 0.5;

/** Opens, credits and debits that keep every balance positive, as the engine would write them. */
function books(entries: number): Receipt[] {
  const random = seededRandom(7);
  const balances = new Array<bigint>(ACCOUNTS).fill(0n);
  const receipts: Receipt[] = [];
  const receipt = (type: string, body: Record<string, unknown>): Receipt =>
    ({
      v: 1,
      scroll: 'treasury',
      seq: receipts.length,
      ts: new Date(Date.UTC(2026, 0, 1) + receipts.length * 1000).toISOString(),
      type,
      body,
      tags: ['treasury'],
      issuer: 'did:vm:node:bench',
      root_hash: `blake3:${'0'.repeat(64)}`,
    }) as Receipt;
  for (let a = 0; a < ACCOUNTS; a++) {
    receipts.push(
      receipt('treasury_account_open', {
        account_id: `acct-${a}`,
        display_name: `account ${a}`,
        account_type: 'operational',
        currency: 'EUR',
        tags: [],
      }),
    );
  }
  for (let i = 0; i < entries; i++) {
    const a = Math.floor(random() * ACCOUNTS);
    const amount = BigInt(1 + Math.floor(random() * 99_999));
    const credit = balances[a]! < amount || random() < 0.5;
    balances[a] = credit ? balances[a]! + amount : balances[a]! - amount;
    receipts.push(
      receipt(credit ? 'treasury_credit' : 'treasury_debit', {
        entry_id: `e-${i}`,
        account: `acct-${a}`,
        amount: formatAmount(amount, 'EUR'),
        currency: 'EUR',
        memo: `invoice ${i}`,
        balance_after: formatAmount(balances[a]!, 'EUR'),
      }),
    );
  }
  return receipts;
}

/** The raw limit: the same amounts summed into a Map of bigints, with no check at all. */
function rawSums(receipts: readonly Receipt[]): Map<string, bigint> {
  const sums = new Map<string, bigint>();
  for (const r of receipts) {
    if (r.type !== 'treasury_credit' && r.type !== 'treasury_debit') continue;
    const body = r.body as { account: string; amount: string };
    const minor = BigInt(body.amount.replace('.', ''));
    sums.set(body.account, (sums.get(body.account) ?? 0n) + (r.type === 'treasury_credit' ? minor : -minor));
  }
  return sums;
}

async function foldRow(entries: number) {
  const receipts = books(entries);
  const folded: number[] = [];
  const raw: number[] = [];
  for (let s = 0; s < FOLD_SAMPLES; s++) {
    let start = nowMs();
    const state = foldAll(treasuryFold, receipts);
    folded.push(nowMs() - start);
    start = nowMs();
    const sums = rawSums(receipts);
    raw.push(nowMs() - start);
    if (state.anomalies.length > 0) throw new Error(`treasury fold: ${state.anomalies[0]!.message}`);
    for (const [id, account] of state.accounts) {
      if ((sums.get(id) ?? 0n) !== account.balance) throw new Error(`treasury fold: ${id} disagrees`);
    }
  }
  const bar = (FOLD_BAR_MS_PER_100K * entries) / 100_000;
  return makeRow({
    benchmark: 'treasury',
    title: `fold ${entries.toLocaleString('en-US')} entries into balances`,
    unit: 'ms',
    vaultmesh: { label: 'treasuryFold (schema + rules)', median: median(folded), samples: folded },
    baseline: { label: 'bigint sums, no checks', median: median(raw), samples: raw },
    bar: ({ vaultmesh }) => ({ text: `≤ ${bar} ms`, pass: vaultmesh <= bar }),
    notes: [
      `${ACCOUNTS} operational EUR accounts; every receipt validated against its schema, every debit checked for overdraft and balance_after; balances identical to the raw sums`,
    ],
  });
}

/** Receipts per second of `count` awaited calls of `write`, after a few untimed ones. */
async function rate(count: number, write: (i: number) => Promise<void>): Promise<number> {
  for (let i = 0; i < 5; i++) await write(-1 - i);
  const start = nowMs();
  for (let i = 0; i < count; i++) await write(i);
  return (count * 1000) / (nowMs() - start);
}

/** A fresh data directory with an account holding enough for every debit, and a way to run operations. */
async function withBooks<T>(
  work: (ledger: Ledger, run: (name: string, raw: Record<string, unknown>) => Promise<unknown>) => Promise<T>,
): Promise<T> {
  return withTempDir('treasury', async (dir) => {
    await initDataDir(dir, 'bench');
    const ledger = Ledger.open(dir);
    try {
      const context = { ledger, clock: () => new Date(), cwd: dir };
      const run = (name: string, raw: Record<string, unknown>) => {
        const op = treasuryEngine.operations.find((o) => o.name === name)!;
        return op.run(
          context,
          parseOperationInput(op, raw, (f) => f),
        );
      };
      await run('account open', { account: 'ops', type: 'operational', currency: 'EUR' });
      await run('credit', { account: 'ops', amount: '1000000.00', memo: 'float', entryId: 'seed' });
      return await work(ledger, run);
    } finally {
      await ledger.close();
    }
  });
}

/** Debits through the engine, and the same receipts appended without the engine, each on fresh books. */
async function debitRates(calls: number): Promise<{ engine: number; plain: number }> {
  const engine = await withBooks((_, run) =>
    rate(calls, async (i) => {
      await run('debit', { account: 'ops', amount: '0.37', memo: `fee ${i}`, entryId: `d${i}` });
    }),
  );
  const plain = await withBooks((ledger) => {
    let balance = 100_000_000n;
    return rate(calls, async (i) => {
      balance -= 37n;
      await ledger.emit([
        {
          scroll: 'treasury',
          type: 'treasury_debit',
          body: {
            entry_id: `d${i}`,
            account: 'ops',
            amount: '0.37',
            currency: 'EUR',
            memo: `fee ${i}`,
            balance_after: formatAmount(balance, 'EUR'),
          },
          tags: ['treasury', 'debit'],
        },
      ]);
      await ledger.publish('treasury');
    });
  });
  return { engine, plain };
}

export const treasuryBooks: Benchmark = {
  name: 'treasury',
  description: 'Treasury: folding the books, and a checked debit against an unchecked append',
  async run(ctx) {
    const entries = ctx.quick ? 20_000 : 100_000;
    const fold = await foldRow(entries);
    const calls = ctx.quick ? 100 : 400;
    const engine: number[] = [];
    const plain: number[] = [];
    for (let s = 0; s < DEBIT_SAMPLES; s++) {
      const r = await debitRates(calls);
      engine.push(r.engine);
      plain.push(r.plain);
    }
    ctx.log(`  treasury fold ${fold.vaultmesh.median.toFixed(0)} ms; debits ${median(engine).toFixed(0)}/s`);
    return [
      fold,
      makeRow({
        benchmark: 'treasury',
        title: 'debit through the engine (checked, durable, checkpointed)',
        unit: 'receipts/s',
        vaultmesh: { label: 'vm treasury debit (in process)', median: median(engine), samples: engine },
        baseline: { label: 'Ledger.emit() + publish, unchecked', median: median(plain), samples: plain },
        bar: ({ ratio }) => ({
          text: `≥ ${DEBIT_BAR_RATIO}× baseline`,
          pass: (ratio ?? 0) >= DEBIT_BAR_RATIO,
        }),
        notes: [
          `${calls} awaited debits after 5 untimed ones, each decided on the books under the scroll lock, appended with fdatasync and followed by a signed checkpoint; the baseline appends the same treasury_debit receipts with Ledger.emit() and publishes, with no check; each on fresh books`,
        ],
      }),
    ];
  },
};

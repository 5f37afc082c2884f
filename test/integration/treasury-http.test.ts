/**
 * The Treasury over the real `vm serve`: the engine's operations at /v1/engines/treasury/..., with
 * the same input contract as the CLI (amounts as strings, the field named when one is not), the
 * token's capabilities enforced, idempotent entry ids, and concurrent debits from many connections
 * judged one after the other so none overdraws.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, startServer, type IssuedToken, type RunningServer } from '../helpers/node.js';
import { assertBuilt, initNode, makeTempDir } from '../helpers/vm.js';

assertBuilt();

const TREASURY_FILE = 'receipts/treasury/treasury_events.jsonl';

interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T & { error?: { code: string; message: string; hint?: string } };
}

describe('treasury over HTTP', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let data: string;
  let server: RunningServer;
  let writer: IssuedToken;
  let admin: IssuedToken;

  const call = async <T = Record<string, unknown>>(
    path: string,
    options: { token?: IssuedToken; json?: unknown } = {},
  ): Promise<Answer<T>> => {
    const response = await fetch(`${server.url}/v1/engines/treasury/${path}`, {
      method: options.json === undefined ? 'GET' : 'POST',
      headers: {
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token.token}` }),
        ...(options.json === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(options.json === undefined ? {} : { body: JSON.stringify(options.json) }),
    });
    return { status: response.status, body: (await response.json()) as Answer<T>['body'] };
  };
  const scroll = () => readFileSync(join(data, TREASURY_FILE), 'utf8');

  beforeAll(async () => {
    tmp = makeTempDir('treasury-http');
    data = join(tmp.dir, 'data');
    initNode(data);
    [writer, admin] = await Promise.all([
      createToken(data, ['storage:treasury'], { subject: 'treasury-writer' }),
      createToken(data, ['admin:treasury', 'storage:treasury'], { subject: 'treasury-admin' }),
    ]);
    server = await startServer(data);
  }, 60_000);

  afterAll(async () => {
    if (server !== undefined) expect(await server.stop(), server.stderr()).toEqual({ code: 0, signal: null });
    tmp.remove();
  });

  it('opening an account needs admin; a storage token is refused and nothing is written', async () => {
    const refused = await call('account/open', {
      token: writer,
      json: { account: 'ops', type: 'operational', currency: 'EUR' },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error!.code).toBe('FORBIDDEN');
    expect(
      await call('account/open', { json: { account: 'ops', type: 'operational', currency: 'EUR' } }),
    ).toMatchObject({
      status: 401,
    });
    const opened = await call('account/open', {
      token: admin,
      json: { account: 'ops', type: 'operational', currency: 'EUR', name: 'Operations' },
    });
    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({ account: { account_id: 'ops', balance: '0.00', currency: 'EUR' } });
  });

  it('an amount sent as a JSON number is refused naming the field; nothing is written', async () => {
    const before = scroll();
    for (const amount of [0.3, 12, '0.1+0.2', '1e2', '-1', '12.505']) {
      const answer = await call('credit', { token: writer, json: { account: 'ops', amount, memo: 'm' } });
      expect(answer.status, JSON.stringify(answer.body)).toBe(400);
      expect(answer.body.error!.code).toBe('INVALID_ARGUMENT');
      expect(answer.body.error!.message).toMatch(/^amount: /);
    }
    expect(
      (await call('credit', { token: writer, json: { account: 'ops', amount: 0.3, memo: 'm' } })).body.error!
        .message,
    ).toContain('never numbers');
    expect(scroll()).toBe(before);
  });

  it('credits are exact and idempotent by entry id', async () => {
    const first = await call<{ receipt: { seq: number; body: Record<string, string> }; already: boolean }>(
      'credit',
      {
        token: writer,
        json: { account: 'ops', amount: '0.1', memo: 'a', entryId: 'c-1' },
      },
    );
    expect(first.status).toBe(200);
    expect(first.body.already).toBe(false);
    expect(first.body.receipt.body).toMatchObject({ amount: '0.10', balance_after: '0.10' });
    const again = await call<{ receipt: { seq: number }; already: boolean }>('credit', {
      token: writer,
      json: { account: 'ops', amount: '0.10', memo: 'a', entryId: 'c-1' },
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ already: true, receipt: { seq: first.body.receipt.seq } });
    const clash = await call('credit', {
      token: writer,
      json: { account: 'ops', amount: '0.20', memo: 'a', entryId: 'c-1' },
    });
    expect(clash.status).toBe(400);
    expect(clash.body.error!.code).toBe('ENTRY_CONFLICT');
    await call('credit', {
      token: writer,
      json: { account: 'ops', amount: '0.2', memo: 'b', entryId: 'c-2' },
    });
    const balance = await call<{ accounts: { balance: string }[] }>('balance?account=ops');
    expect(balance.status).toBe(200);
    expect(balance.body.accounts[0]!.balance).toBe('0.30');
  });

  it('twelve debits at once against a balance for five: exactly five pass, the books never go below zero', async () => {
    await call('credit', {
      token: writer,
      json: { account: 'ops', amount: '49.70', memo: 'float', entryId: 'c-3' },
    });
    // The balance is now 50.00: five debits of 10.00 fit, the sixth would overdraw.
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        call('debit', {
          token: writer,
          json: { account: 'ops', amount: '10.00', memo: `race ${i}`, entryId: `race-${i}` },
        }),
      ),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(5);
    const refused = answers.filter((a) => a.status !== 200);
    expect(refused).toHaveLength(7);
    for (const a of refused) expect(a.body.error!.code).toBe('INSUFFICIENT_FUNDS');
    const debits = scroll()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; body: { balance_after: string } })
      .filter((r) => r.type === 'treasury_debit')
      .map((r) => r.body.balance_after);
    expect(debits).toEqual(['40.00', '30.00', '20.00', '10.00', '0.00']);
    const balance = await call<{ accounts: { balance: string }[]; anomalies: unknown[] }>('balance');
    expect(balance.body).toMatchObject({ accounts: [{ balance: '0.00' }], anomalies: [] });
  });

  it('query answers entries as JSON, with the settled and single entries in one shape', async () => {
    const answer = await call<{ entries: { entry_id: string; entry_type: string; amount: string }[] }>(
      'query?account=ops&type=credit',
    );
    expect(answer.status).toBe(200);
    expect(answer.body.entries.map((e) => [e.entry_id, e.amount])).toEqual([
      ['c-1', '0.10'],
      ['c-2', '0.20'],
      ['c-3', '49.70'],
    ]);
  });
});

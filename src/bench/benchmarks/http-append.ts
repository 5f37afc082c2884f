/**
 * Appends over HTTP: the node (`vm serve`) against the same load on a bare server of the same
 * framework answering a constant, both in their own process, driven by autocannon on loopback. Then
 * the node is killed with SIGKILL under load: every append it acknowledged must be in the scroll.
 */
import autocannon from 'autocannon';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getScroll } from '../../core/scrolls/index.js';
import type { Benchmark, BenchContext } from '../context.js';
import {
  createBenchToken,
  startBareServer,
  startNodeProcess,
  vmSync,
  type ServerProcess,
} from '../node-process.js';
import { makeRow, type BenchRow } from '../report.js';
import { median } from '../stats.js';
import { withTempDir } from '../temp.js';

const CONNECTIONS = 32;
const BATCH = 100;
/** A scroll the generic append path accepts (Treasury's types are written by its engine only). */
const SCROLL = 'observability';

interface Load {
  /** Requests per second answered 2xx. */
  rate: number;
  p50: number;
  p99: number;
}

function entry(i: number) {
  return {
    type: 'obs_metric_snapshot',
    body: { entry_id: `bench-${i}`, account: 'ops', amount: '12.50', currency: 'EUR', memo: 'load' },
    tags: ['bench'],
  };
}

async function load(url: string, token: string, body: string, seconds: number): Promise<Load> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
    connections: CONNECTIONS,
    duration: seconds,
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`http-append: ${url} answered ${result.non2xx} non-2xx and ${result.errors} errors`);
  }
  return { rate: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

/** Alternates node and baseline rounds, so that drift of the machine hits both alike. */
async function compare(
  ctx: BenchContext,
  servers: { node: ServerProcess; bare: ServerProcess },
  path: string,
  body: string,
  token: string,
): Promise<{ node: Load[]; bare: Load[] }> {
  const rounds = ctx.quick ? 1 : 3;
  const seconds = ctx.quick ? 2 : 5;
  await load(servers.node.url + path, token, body, 1);
  await load(servers.bare.url + path, token, body, 1);
  const node: Load[] = [];
  const bare: Load[] = [];
  for (let r = 0; r < rounds; r++) {
    node.push(await load(servers.node.url + path, token, body, seconds));
    bare.push(await load(servers.bare.url + path, token, body, seconds));
  }
  return { node, bare };
}

function rows(
  name: string,
  title: string,
  perRequest: number,
  runs: { node: Load[]; bare: Load[] },
): BenchRow[] {
  const rates = (loads: Load[]) => loads.map((l) => l.rate * perRequest);
  const p99 = (loads: Load[]) => loads.map((l) => l.p99);
  const p50 = (loads: Load[]) => loads.map((l) => l.p50);
  const notes = [
    `${CONNECTIONS} connections, autocannon, loopback; ${perRequest} receipt(s) per request`,
    `p50 ${median(p50(runs.node))} ms (bare ${median(p50(runs.bare))} ms)`,
  ];
  return [
    makeRow({
      benchmark: name,
      title: `${title}: throughput`,
      unit: 'receipts/s',
      vaultmesh: { label: 'vm serve', median: median(rates(runs.node)), samples: rates(runs.node) },
      baseline: {
        label: 'bare Hono, constant answer',
        median: median(rates(runs.bare)),
        samples: rates(runs.bare),
      },
      notes,
    }),
    makeRow({
      benchmark: name,
      title: `${title}: p99 latency`,
      unit: 'ms',
      vaultmesh: { label: 'vm serve', median: median(p99(runs.node)), samples: p99(runs.node) },
      baseline: {
        label: 'bare Hono, constant answer',
        median: median(p99(runs.bare)),
        samples: p99(runs.bare),
      },
      notes,
    }),
  ];
}

/** Appends from several loops, SIGKILLs the node mid-load, and checks every acknowledged receipt. */
async function killUnderLoad(data: string, token: string, name: string): Promise<BenchRow> {
  const node = await startNodeProcess(data);
  const before = Number(JSON.parse(vmSync(data, ['--format', 'json', 'root', SCROLL]))[0].size);
  const acked = new Map<number, string>();
  let stop = false;
  let i = 1_000_000;
  const loop = async () => {
    while (!stop) {
      const response = await fetch(`${node.url}/v1/scrolls/${SCROLL}/receipts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(entry(i++)),
      }).catch(() => undefined);
      if (response?.status === 201) {
        const receipt = (await response.json().catch(() => undefined)) as
          { seq: number; root_hash: string } | undefined;
        if (receipt !== undefined) acked.set(receipt.seq, receipt.root_hash);
      }
    }
  };
  const loops = Array.from({ length: 16 }, loop);
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await node.stop('SIGKILL');
  stop = true;
  await Promise.all(loops);
  const seconds = (performance.now() - started) / 1000;
  const verify = JSON.parse(vmSync(data, ['--format', 'json', 'verify', SCROLL])) as { ok: boolean };
  const lines = readFileSync(join(data, getScroll(SCROLL).file), 'utf8').split('\n');
  const missing = [...acked].filter(([seq, hash]) => !lines[seq]?.includes(`"root_hash":"${hash}"`));
  const rate = acked.size / seconds;
  return makeRow({
    benchmark: name,
    title: 'kill -9 under HTTP load',
    unit: 'receipts/s',
    vaultmesh: { label: 'acknowledged appends before SIGKILL', median: rate, samples: [rate] },
    bar: () => ({
      text: 'every acknowledged receipt present; vm verify passes',
      pass: missing.length === 0 && verify.ok && acked.size > 0,
    }),
    notes: [
      `${acked.size} appends acknowledged (after ${before} earlier receipts) by 16 loops in ${seconds.toFixed(1)} s before SIGKILL; ${missing.length} missing afterwards; vm verify ${verify.ok ? 'ok' : 'FAILED'}`,
    ],
  });
}

export const httpAppend: Benchmark = {
  name: 'http-append',
  description:
    'appends over HTTP (single and batched) against a bare server of the same framework; kill -9 under load',
  async run(ctx) {
    return withTempDir('http', async (dir) => {
      const data = join(dir, 'data');
      vmSync(data, ['init', '--name', 'bench']);
      const config = join(data, 'vaultmesh.toml');
      writeFileSync(
        config,
        readFileSync(config, 'utf8').replace(
          /^rate_limit_per_minute = .*$/m,
          'rate_limit_per_minute = 10000000',
        ),
      );
      const token = createBenchToken(data, 'bench', `storage:${SCROLL}`);
      const servers = { node: await startNodeProcess(data), bare: await startBareServer() };
      const result: BenchRow[] = [];
      try {
        ctx.log('http-append: single receipts');
        const single = await compare(
          ctx,
          servers,
          `/v1/scrolls/${SCROLL}/receipts`,
          JSON.stringify(entry(0)),
          token,
        );
        result.push(...rows(this.name, 'HTTP append, 1 receipt per request', 1, single));
        ctx.log('http-append: batches');
        const batch = JSON.stringify({
          receipts: Array.from({ length: BATCH }, (_, i) => ({ scroll: SCROLL, ...entry(i) })),
        });
        const batched = await compare(ctx, servers, '/v1/receipts/batch', batch, token);
        result.push(...rows(this.name, `HTTP append, batches of ${BATCH}`, BATCH, batched));
      } finally {
        await Promise.all([servers.node.stop(), servers.bare.stop()]);
      }
      ctx.log('http-append: kill -9 under load');
      result.push(await killUnderLoad(data, token, this.name));
      return result;
    });
  },
};

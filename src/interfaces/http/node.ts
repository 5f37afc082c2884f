/**
 * A running VaultMesh node: the HTTP API over one data directory, checkpoints signed as scrolls
 * grow, and a shutdown that finishes what it acknowledged. Appends are acknowledged only after
 * their fdatasync, so whatever a client was told is recorded survives even a SIGKILL; a SIGTERM
 * additionally lets in-flight requests finish and signs the final checkpoints.
 */
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { SCROLLS } from '../../core/scrolls/index.js';
import type { EngineSurface } from '../../engines/framework/engine.js';
import { Ledger } from '../../ledger/ledger.js';
import { Access } from '../access.js';
import { createMcpServer } from '../mcp/server.js';
import { ConsoleRecorder } from '../../engines/console/recorder.js';
import { createApp } from './app.js';
import { anchorStatus, upgradeAnchors } from '../../engines/guardian/anchors.js';
import { configuredBackends, guardianConfig } from '../../engines/guardian/config.js';
import { runAnchorCycle, type CycleResult } from '../../engines/guardian/cycle.js';
import { NodeMetrics } from './metrics.js';

const DRAIN_MS = 10_000;

export interface NodeOptions {
  dataDir: string;
  version: string;
  engines: readonly EngineSurface[];
  host?: string;
  port?: number;
  log?: Logger;
}

export interface RunningNode {
  url: string;
  ledger: Ledger;
  close(): Promise<void>;
}

export async function startNode(options: NodeOptions): Promise<RunningNode> {
  const log = options.log ?? pino({ name: 'vaultmesh' }, pino.destination(2));
  const metrics = new NodeMetrics();
  const ledger = Ledger.open(options.dataDir, { onBatch: metrics.onBatch });
  metrics.watch(ledger);
  const config = ledger.identity.config.http;
  let draining = false;
  const access = new Access(ledger, { reads: config.reads });
  const guardianConfigured = guardianConfig(ledger);
  const guardian = {
    config: guardianConfigured,
    backends: configuredBackends(ledger, guardianConfigured, () => new Date()),
    cycle: () => anchorSerially(),
  };
  // One cycle at a time: a scheduled one and one asked for over HTTP share the result.
  let running: Promise<CycleResult> | undefined;
  const anchorSerially = () =>
    (running ??= runAnchorCycle(ledger, guardian.config, guardian.backends)
      .then(async (result) => {
        log[result.outcome === 'anchored' ? 'info' : 'warn'](
          {
            outcome: result.outcome,
            anchor: result.anchor_id,
            failures: result.failures,
            divergences: result.divergences,
          },
          'anchor cycle',
        );
        await upgradeAnchors(ledger, guardian.config, guardian.backends).catch((error: unknown) =>
          log.error({ err: error }, 'upgrading pending anchors failed'),
        );
        return result;
      })
      .finally(() => (running = undefined)));
  metrics.watchAnchors(() => anchorStatus(ledger, guardian.config, guardian.backends, new Date()));
  const consoleRecorder = new ConsoleRecorder(ledger);
  const app = createApp({
    ledger,
    access,
    console: consoleRecorder,
    engines: options.engines,
    metrics,
    version: options.version,
    maxRequestBytes: config.max_request_bytes,
    rateLimitPerMinute: config.rate_limit_per_minute,
    draining: () => draining,
    log,
    guardian,
    mcp: (caller) =>
      createMcpServer({ ledger, access, caller: () => caller, version: options.version, guardian }),
  });
  /** Publications under way, so that the last one at shutdown waits for them instead of skipping. */
  const publishing = new Map<string, Promise<void>>();
  const publishGrown = async () => {
    for (const scroll of SCROLLS) {
      if (publishing.has(scroll.name)) continue;
      const status = ledger.status(scroll.name);
      // Publishing also takes up lines a crashed writer left unindexed, so they become readable.
      if (status.size === (status.checkpointSize ?? 0) && !status.uncovered) continue;
      const publication = ledger
        .publish(scroll.name)
        .then(
          () => undefined,
          (error: unknown) => log.error({ err: error, scroll: scroll.name }, 'signing a checkpoint failed'),
        )
        .finally(() => publishing.delete(scroll.name));
      publishing.set(scroll.name, publication);
      await publication;
    }
  };
  // Before the first request: a node restarted after a crash serves everything it acknowledged.
  await publishGrown();
  for (const repair of await ledger.recoveries()) log.warn(repair, 'repaired a scroll on start');
  const hostname = options.host ?? config.host;
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname, port: options.port ?? config.port }, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  const publisher = setInterval(() => void publishGrown(), config.publish_interval_ms);
  const anchoring =
    guardian.config.interval === undefined
      ? undefined
      : setInterval(
          () =>
            void anchorSerially().catch((error: unknown) => log.error({ err: error }, 'anchor cycle failed')),
          guardian.config.interval,
        );
  log.info({ url, did: ledger.identity.did, dataDir: ledger.dataDir.root }, 'node listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      draining = true;
      clearInterval(publisher);
      if (anchoring !== undefined) clearInterval(anchoring);
      const force = setTimeout(
        () => (server as { closeAllConnections?: () => void }).closeAllConnections?.(),
        DRAIN_MS,
      );
      // Connections busy at the signal become idle one by one; each is closed as soon as it is.
      const closeIdle = () => (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      const sweeper = setInterval(closeIdle, 50);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        closeIdle();
      });
      clearInterval(sweeper);
      clearTimeout(force);
      await running?.catch(() => undefined);
      await Promise.all(publishing.values());
      await publishGrown();
      await ledger.close();
      log.info('node stopped');
    })());
  return { url, ledger, close };
}

/**
 * The HTTP baseline: the node's own framework (Hono on @hono/node-server) answering every POST with
 * a constant after reading the body, on an ephemeral loopback port printed as its first line.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';

const app = new Hono();
app.post('*', async (c) => {
  await c.req.text();
  return c.json({ ok: true }, 201);
});
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) =>
  process.stdout.write(`http://127.0.0.1:${info.port}\n`),
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));

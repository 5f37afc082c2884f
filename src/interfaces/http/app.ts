/**
 * The node's HTTP API: every read of the ledger, appends, each engine's remote operations, the
 * C2SP tlog-tiles view of every scroll, and the seeds' routes. Every request is authenticated by
 * its bearer token (if any) and authorized per scroll; every body is size-limited and validated,
 * and every error is `{error: {code, message, hint}}` with the status its kind implies.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono, type Context } from 'hono';
import type { Logger } from 'pino';
import { stream } from 'hono/streaming';
import { z } from 'zod';
import { toBase64, toHex, utf8 } from '../../core/bytes.js';
import { parseJson } from '../../core/canonical.js';
import { isVaultMeshError, VaultMeshError } from '../../core/errors.js';
import { assertAppendable, type Receipt, type ReceiptDraft } from '../../core/receipt.js';
import { SCROLLS, getScroll } from '../../core/scrolls/index.js';
import { encodeEntryBundle, parseTilePath, tileHashes, tileWidthAt } from '../../core/tiles.js';
import {
  operationCapability,
  operationPath,
  type AnyOperation,
  type EngineSurface,
} from '../../engines/framework/engine.js';
import { parseOperationInput } from '../../engines/framework/input.js';
import type { Ledger } from '../../ledger/ledger.js';
import type { ReceiptQuery } from '../../ledger/query-index.js';
import type { Access, Caller, Need } from '../access.js';
import { parseCount, parseTime, parseWhere } from '../params.js';
import { anchorStatus } from '../../engines/guardian/anchors.js';
import { anchoredBundle } from '../../engines/guardian/bundle.js';
import type { AnchorBackend } from '../../engines/guardian/backend.js';
import type { GuardianConfig } from '../../engines/guardian/config.js';
import type { CycleResult } from '../../engines/guardian/cycle.js';
import { consoleEventSchema } from '../../core/console/events.js';
import { decideAction, pendingApprovals } from '../../engines/console/approvals.js';
import { killSession } from '../../engines/console/control.js';
import type { ConsoleRecorder } from '../../engines/console/recorder.js';
import { auditSessions, listSessions, sessionState } from '../../engines/console/sessions.js';
import type { NodeMetrics } from './metrics.js';
import { OpenApi } from './openapi.js';
import { RateLimiter } from './rate-limit.js';
import { httpStatus } from './status.js';

export interface AppOptions {
  ledger: Ledger;
  access: Access;
  engines: readonly EngineSurface[];
  metrics: NodeMetrics;
  version: string;
  maxRequestBytes: number;
  rateLimitPerMinute: number;
  /** Set once the node is shutting down: /readyz answers 503 so balancers stop sending work. */
  draining: () => boolean;
  log: Logger;
  /** The Guardian, for the seed's anchor routes. */
  guardian: { config: GuardianConfig; backends: readonly AnchorBackend[]; cycle: () => Promise<CycleResult> };
  /** The Console engine's intake, shared by every request so a session's events queue in one place. */
  console: ConsoleRecorder;
  /** The MCP server for one request's caller; served at /mcp (streamable HTTP, stateless). */
  mcp?: (caller: Caller) => McpServer;
}

export interface Env {
  Variables: { caller: Caller; route: string };
}

const MAX_BATCH = 1000;
const PAGE_DEFAULT = 100;
const PAGE_MAX = 1000;
const NDJSON = 'application/x-ndjson';

const draftSchema = z.strictObject({
  type: z.string().min(1).max(128),
  body: z.record(z.string(), z.unknown()),
  tags: z.array(z.string()).max(32).optional(),
  session_id: z.string().optional(),
});
const batchSchema = z.strictObject({
  receipts: z
    .array(draftSchema.extend({ scroll: z.string().min(1).max(64) }))
    .min(1)
    .max(MAX_BATCH),
});

/**
 * A JSON request body, size-limited and parsed strictly (unsafe integers and lone surrogates are
 * refused). A declared length is checked before anything is read; a chunked body is counted as it
 * streams. The declared-length path reads through the adapter's fast path, which a body stream
 * would forgo.
 */
export async function readBody(c: Context, maxBytes: number): Promise<string> {
  const tooLarge = () =>
    new VaultMeshError('BODY_TOO_LARGE', `request body is larger than ${maxBytes} bytes`, {
      hint: 'send fewer receipts per batch, or raise http.max_request_bytes in vaultmesh.toml',
    });
  const declared = c.req.header('content-length');
  if (declared !== undefined) {
    if (!/^[0-9]{1,15}$/.test(declared) || Number(declared) > maxBytes) throw tooLarge();
    return c.req.text();
  }
  const reader = c.req.raw.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    total += chunk.value.length;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(chunk.value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function jsonBody(c: Context, maxBytes: number): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!type.startsWith('application/json')) {
    throw new VaultMeshError('INVALID_ARGUMENT', `content-type must be application/json, got "${type}"`, {
      hint: 'send the body as JSON with Content-Type: application/json',
    });
  }
  return parseJson(await readBody(c, maxBytes), 'request body');
}

function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new VaultMeshError(
    'INVALID_ARGUMENT',
    `${[what, ...issue.path.map(String)].join('.')}: ${issue.message}`,
    {
      hint: 'see the request schemas in /openapi.json',
    },
  );
}

/** Receipts query from URL parameters, with the CLI's semantics. */
function receiptQuery(c: Context): ReceiptQuery {
  const url = new URL(c.req.url);
  const one = (name: string) => url.searchParams.get(name) ?? undefined;
  const limit = one('limit');
  const after = one('after');
  const before = one('before');
  const from = one('from');
  const to = one('to');
  return {
    types: url.searchParams.getAll('type'),
    tags: url.searchParams.getAll('tag'),
    where: url.searchParams.getAll('where').map((w) => parseWhere(w, 'where')),
    ...(from === undefined ? {} : { from: parseTime(from, 'from') }),
    ...(to === undefined ? {} : { to: parseTime(to, 'to', true) }),
    ...(after === undefined ? {} : { afterSeq: parseCount(after, 'after') }),
    ...(before === undefined ? {} : { beforeSeq: parseCount(before, 'before') }),
    limit: Math.min(limit === undefined ? PAGE_DEFAULT : parseCount(limit, 'limit'), PAGE_MAX),
    reverse: one('order') === 'desc',
  };
}

function scrollOf(c: Context): string {
  return getScroll(c.req.param('scroll') ?? '').name;
}

function seqParam(c: Context, name: string): number {
  return parseCount(c.req.param(name) ?? '', name);
}

export function createApp(options: AppOptions): Hono<Env> {
  const { ledger, access, metrics } = options;
  const app = new Hono<Env>();
  const docs = new OpenApi(options.version);
  const limiter = new RateLimiter(options.rateLimitPerMinute);

  app.onError((error, c) => {
    if (!isVaultMeshError(error)) options.log.error({ err: error, route: c.get('route') }, 'request failed');
    const known = isVaultMeshError(error)
      ? error
      : new VaultMeshError('INTERNAL', 'internal error', {
          hint: 'this is a bug in VaultMesh; see the node log',
        });
    const status = httpStatus(known);
    if (status === 401) c.header('WWW-Authenticate', 'Bearer');
    // The unread rest of an oversized body is not drained for long: the connection cannot be reused.
    if (status === 413) c.header('Connection', 'close');
    return c.json({ error: known.toJSON() }, status);
  });
  app.notFound((c) =>
    c.json(
      {
        error: {
          code: 'NOT_FOUND',
          message: `no route ${c.req.method} ${c.req.path}`,
          hint: 'see /openapi.json for the routes',
        },
      },
      404,
    ),
  );

  app.use('*', async (c, next) => {
    const started = performance.now();
    c.set('route', 'unmatched');
    try {
      await next();
    } finally {
      options.log.debug(
        { method: c.req.method, path: c.req.path, status: c.res.status, ms: performance.now() - started },
        'request',
      );
      metrics.http.observe(
        { method: c.req.method, route: c.get('route'), status: String(c.res.status) },
        (performance.now() - started) / 1000,
      );
    }
  });
  /** Registers a route with its documentation, authentication and authorization. */
  function route(
    method: 'get' | 'post',
    path: string,
    doc: { summary: string; need: (c: Context) => Need | undefined; body?: z.ZodType; tag: string },
    handler: (c: Context<Env>) => Response | Promise<Response>,
  ): void {
    docs.add(method, path, doc);
    app[method](path, async (c) => {
      c.set('route', path);
      // The socket's address, not a header the client writes: limits and receipts must not be forgeable.
      const origin = `http ${getConnInfo(c).remote.address ?? 'unknown'}`;
      const action = `${method.toUpperCase()} ${path}`;
      const caller = await access.authenticate(c.req.header('authorization'), origin, action, () =>
        limiter.take(origin),
      );
      limiter.take(caller.claims?.id ?? origin);
      c.set('caller', caller);
      const need = doc.need(c);
      if (need !== undefined) await access.authorize(caller, need, action);
      return handler(c);
    });
  }
  const readScroll = (c: Context): Need => ({
    capability: 'read',
    scroll: scrollOf(c),
  });
  const writeScroll = (c: Context): Need => ({
    capability: 'storage',
    scroll: scrollOf(c),
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => {
    if (options.draining()) return c.json({ ready: false, reason: 'shutting down' }, 503);
    ledger.dataDir.assertUsable();
    return c.json({ ready: true });
  });
  app.get('/metrics', async (c) =>
    c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  );
  app.get('/openapi.json', (c) => c.json(docs.document()));

  route(
    'get',
    '/v1/node',
    { summary: "the node's DID, origin and verifier key", need: () => undefined, tag: 'node' },
    (c) =>
      c.json({
        did: ledger.identity.did,
        origin: ledger.identity.config.node.origin,
        vkey: ledger.identity.vkey,
        version: options.version,
      }),
  );

  route(
    'get',
    '/v1/scrolls',
    {
      summary: 'every scroll: size, root, checkpoint size',
      need: () => ({ capability: 'read' }),
      tag: 'ledger',
    },
    (c) =>
      c.json(
        SCROLLS.map((s) => {
          const status = ledger.status(s.name);
          return {
            scroll: s.name,
            title: s.title,
            file: s.file,
            size: status.size,
            root: toHex(status.root),
            checkpointSize: status.checkpointSize ?? null,
          };
        }),
      ),
  );

  route(
    'get',
    '/v1/scrolls/:scroll',
    { summary: 'one scroll: size, root, receipt types', need: readScroll, tag: 'ledger' },
    (c) => {
      const scroll = getScroll(scrollOf(c));
      const status = ledger.status(scroll.name);
      return c.json({
        scroll: scroll.name,
        title: scroll.title,
        file: scroll.file,
        size: status.size,
        root: toHex(status.root),
        checkpointSize: status.checkpointSize ?? null,
        types: scroll.types.map((t) => ({ type: t.type, description: t.description })),
      });
    },
  );

  route(
    'get',
    '/v1/scrolls/:scroll/receipts',
    {
      summary: 'receipts by type, time, tags and body fields; paged with after/before, or NDJSON',
      need: readScroll,
      tag: 'ledger',
    },
    (c) => {
      const scroll = scrollOf(c);
      const query = receiptQuery(c);
      if ((c.req.header('accept') ?? '').includes(NDJSON)) {
        // A stream pages through the whole result, so it is not cut at one page.
        c.header('content-type', NDJSON);
        return stream(c, async (out) => {
          let page: Receipt[];
          let cursor = query.reverse ? query.beforeSeq : query.afterSeq;
          do {
            page = ledger.query(scroll, {
              ...query,
              ...(query.reverse ? { beforeSeq: cursor } : { afterSeq: cursor }),
              limit: PAGE_MAX,
            });
            if (page.length > 0) await out.write(page.map((r) => `${JSON.stringify(r)}\n`).join(''));
            cursor = page.at(-1)?.seq;
          } while (page.length === PAGE_MAX);
        });
      }
      const receipts = ledger.query(scroll, query);
      const last = receipts.at(-1);
      const next =
        receipts.length === query.limit && last !== undefined
          ? `${c.req.path}?${withCursor(new URL(c.req.url).searchParams, query.reverse ? 'before' : 'after', last.seq)}`
          : null;
      return c.json({ receipts, next });
    },
  );

  route(
    'get',
    '/v1/scrolls/:scroll/receipts/:seq',
    { summary: 'one receipt by seq', need: readScroll, tag: 'ledger' },
    (c) => {
      const log = ledger.reader(scrollOf(c));
      try {
        const seq = seqParam(c, 'seq');
        if (seq >= log.size) {
          throw new VaultMeshError('SEQ_OUT_OF_RANGE', `${log.scroll.name} has no receipt ${seq}`, {
            hint: `seqs run from 0 to ${log.size - 1}`,
          });
        }
        return c.body(log.readLine(seq), 200, { 'content-type': 'application/json' });
      } finally {
        log.close();
      }
    },
  );

  route(
    'get',
    '/v1/scrolls/:scroll/checkpoint',
    { summary: 'the latest signed checkpoint (C2SP signed note)', need: readScroll, tag: 'ledger' },
    (c) => c.text(currentCheckpoint(ledger, scrollOf(c))),
  );

  route(
    'get',
    '/v1/scrolls/:scroll/proof/:seq',
    {
      summary: 'a receipt bundle: receipt, inclusion proof, signed checkpoint',
      need: readScroll,
      tag: 'ledger',
    },
    async (c) =>
      c.body(await anchoredBundle(ledger, scrollOf(c), seqParam(c, 'seq')), 200, {
        'content-type': 'application/json',
      }),
  );

  route(
    'get',
    '/v1/scrolls/:scroll/consistency',
    { summary: 'consistency proof between two sizes (?old=&new=)', need: readScroll, tag: 'ledger' },
    (c) => {
      const url = new URL(c.req.url);
      const newSize = url.searchParams.get('new');
      const result = ledger.consistency(
        scrollOf(c),
        parseCount(url.searchParams.get('old') ?? '', 'old'),
        newSize === null ? undefined : parseCount(newSize, 'new'),
      );
      return c.json({
        ...result,
        oldRoot: toBase64(result.oldRoot),
        newRoot: toBase64(result.newRoot),
        proof: result.proof.map(toBase64),
      });
    },
  );

  route(
    'post',
    '/v1/scrolls/:scroll/receipts',
    { summary: 'append one receipt', need: writeScroll, body: draftSchema, tag: 'ledger' },
    async (c) => {
      const draft = validate(draftSchema, await jsonBody(c, options.maxRequestBytes), 'body');
      const request = { ...draft, scroll: scrollOf(c) } as ReceiptDraft;
      assertAppendable(request);
      const [appended] = await ledger.emit([request]);
      return c.json(appended!.receipt, 201);
    },
  );

  route(
    'post',
    '/v1/receipts/batch',
    {
      summary: `append up to ${MAX_BATCH} receipts at once, all or none`,
      need: () => undefined,
      body: batchSchema,
      tag: 'ledger',
    },
    async (c) => {
      const { receipts } = validate(batchSchema, await jsonBody(c, options.maxRequestBytes), 'body');
      const scrolls = new Set(receipts.map((r) => getScroll(r.scroll).name));
      for (const scroll of scrolls)
        await access.authorize(c.get('caller'), { capability: 'storage', scroll }, 'POST /v1/receipts/batch');
      receipts.forEach(assertAppendable);
      const appended = await ledger.emit(receipts as ReceiptDraft[]);
      return c.json({ receipts: appended.map((a) => a.receipt) }, 201);
    },
  );

  // C2SP tlog-tiles: a static-looking, cacheable view any tiles client can mirror and verify.
  route(
    'get',
    '/tiles/:scroll/checkpoint',
    { summary: 'tlog-tiles checkpoint', need: readScroll, tag: 'tiles' },
    (c) => {
      c.header('cache-control', 'no-cache');
      return c.text(currentCheckpoint(ledger, scrollOf(c)));
    },
  );
  route(
    'get',
    '/tiles/:scroll/tile/*',
    { summary: 'tlog-tiles hash tiles and entry bundles', need: readScroll, tag: 'tiles' },
    (c) => {
      const scroll = scrollOf(c);
      const tile = parseTilePath(c.req.path.slice(c.req.path.indexOf('/tile/') + 1));
      const log = ledger.reader(scroll);
      try {
        const available = tileWidthAt(log.size, tile.kind === 'hash' ? tile.level : 0, tile.index);
        if (available < tile.width) {
          throw new VaultMeshError(
            'SEQ_OUT_OF_RANGE',
            `the tree of ${log.scroll.name} does not fill that tile yet`,
            {
              hint: `the tree has ${log.size} leaves; request tiles the latest checkpoint covers`,
            },
          );
        }
        // Full tiles never change: cache them for good; partial ones only for a moment.
        c.header(
          'cache-control',
          tile.width === 256 ? 'public, max-age=31536000, immutable' : 'public, max-age=1',
        );
        const bytes =
          tile.kind === 'hash'
            ? tileHashes(log.tree.readNode, tile)
            : encodeEntryBundle(
                [...log.readLines(tile.index * 256, tile.index * 256 + tile.width)].map((l) => utf8(l.line)),
              );
        return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/octet-stream' });
      } finally {
        log.close();
      }
    },
  );

  for (const engine of options.engines) {
    for (const operation of engine.operations.filter((o) => !o.local)) {
      const path = `/v1/engines/${engine.id}/${operationPath(operation).join('/')}`;
      const need = (): Need => ({
        capability: operationCapability(operation),
        scroll: engine.scroll.name,
      });
      const run = async (c: Context, raw: Record<string, unknown>) => {
        const input = parseOperationInput(operation, raw, (field) => field);
        const output = await operation.run(
          { ledger, clock: () => new Date(), cwd: ledger.dataDir.root },
          input,
        );
        return c.json(output as object, (output as { ok?: unknown } | null)?.ok === false ? 422 : 200);
      };
      route(
        'post',
        path,
        { summary: operation.summary, need, body: operation.input, tag: engine.id },
        async (c) =>
          run(
            c,
            validate(z.record(z.string(), z.unknown()), await jsonBody(c, options.maxRequestBytes), 'body'),
          ),
      );
      if (operation.access === 'read') {
        route('get', path, { summary: operation.summary, need, tag: engine.id }, (c) =>
          run(c, queryInput(c, operation)),
        );
      }
    }
  }

  // The seed's Oracle route: an oracle answer receipt in the seed's shape, into the Compliance scroll.
  const oracleSchema = z.strictObject({
    scroll: z
      .string()
      .refine((s) => s.toLowerCase() === 'compliance', 'oracle receipts go to the Compliance scroll')
      .optional(),
    issuer: z.string().optional(),
    body: z.record(z.string(), z.unknown()),
    tags: z.array(z.string()).max(32).optional(),
  });
  route(
    'post',
    '/api/receipts/oracle',
    {
      summary: "append an oracle answer (the seed's Oracle receipt shape)",
      need: () => ({ capability: 'oracle', scroll: 'compliance' }),
      body: oracleSchema,
      tag: 'seed',
    },
    async (c) => {
      const request = validate(oracleSchema, await jsonBody(c, options.maxRequestBytes), 'body');
      const { op_type: type = 'oracle_answer', ...body } = request.body;
      const [appended] = await ledger.emit([
        { scroll: 'compliance', type: String(type), body, tags: request.tags ?? ['oracle'] },
      ]);
      return c.json(appended!.receipt, 201);
    },
  );

  // The seed's Console bridge: {type, session_id, payload} -> a receipt in the Console scroll.
  const consoleSchema = z.strictObject({
    type: z.string().regex(/^console_[a-z_]+$/, 'expected a console receipt type such as console_command'),
    session_id: z.string().min(1).max(128).optional(),
    payload: z.record(z.string(), z.unknown()),
  });
  route(
    'post',
    '/v1/console/receipt',
    {
      summary: "append a Console receipt (the seed's HTTP bridge shape)",
      need: () => ({ capability: 'storage', scroll: 'console' }),
      body: consoleSchema,
      tag: 'seed',
    },
    async (c) => {
      const request = validate(consoleSchema, await jsonBody(c, options.maxRequestBytes), 'body');
      assertAppendable({ scroll: 'console', type: request.type });
      const [appended] = await ledger.emit([
        {
          scroll: 'console',
          type: request.type,
          body: request.payload,
          tags: ['console'],
          ...(request.session_id === undefined ? {} : { session_id: request.session_id }),
        },
      ]);
      return c.json({ ok: true, record: appended!.receipt }, 201);
    },
  );

  // The Console engine: agent events in (the hook and the OpenCode plugin), sessions and approvals out.
  route(
    'post',
    '/v1/console/events',
    {
      summary:
        'record one agent event; for a call about to run, answer allow or deny (holding it for approval if the policy says so)',
      need: () => ({ capability: 'storage', scroll: 'console' }),
      body: consoleEventSchema,
      tag: 'console',
    },
    async (c) => {
      const event = validate(consoleEventSchema, await jsonBody(c, options.maxRequestBytes), 'body');
      const sub = c.get('caller').claims?.sub;
      const answer = await options.console.record(event, {
        signal: c.req.raw.signal,
        ...(sub === undefined ? {} : { caller: sub }),
      });
      return c.json(answer, 200);
    },
  );
  const sessionFilterSchema = z.strictObject({
    status: z.enum(['active', 'ended', 'killed']).optional(),
    agent_type: z.string().min(1).max(100).optional(),
  });
  route(
    'get',
    '/v1/console/sessions',
    {
      summary: 'sessions with their derived state (filter by status, agent_type)',
      need: () => ({ capability: 'read', scroll: 'console' }),
      tag: 'console',
    },
    (c) => {
      const filter = validate(sessionFilterSchema, c.req.query(), 'query');
      return c.json({
        sessions: listSessions(
          ledger,
          {
            ...(filter.status === undefined ? {} : { status: filter.status }),
            ...(filter.agent_type === undefined ? {} : { agentType: filter.agent_type }),
          },
          new Date(),
        ),
      });
    },
  );
  route(
    'get',
    '/v1/console/sessions/:session',
    {
      summary: "one session's derived state",
      need: () => ({ capability: 'read', scroll: 'console' }),
      tag: 'console',
    },
    (c) => c.json(sessionState(ledger, c.req.param('session') ?? '', new Date())),
  );
  route(
    'get',
    '/v1/console/audit',
    {
      summary: 'per session: constraint flags and gaps in the record (date=YYYY-MM-DD, agent_type)',
      need: () => ({ capability: 'read', scroll: 'console' }),
      tag: 'console',
    },
    (c) => {
      const date = c.req.query('date');
      const agentType = c.req.query('agent_type');
      return c.json({
        sessions: auditSessions(
          ledger,
          {
            ...(date === undefined
              ? {}
              : { from: parseTime(date, 'date'), to: parseTime(date, 'date', true) }),
            ...(agentType === undefined ? {} : { agentType }),
          },
          new Date(),
        ),
      });
    },
  );
  route(
    'get',
    '/v1/console/approvals',
    {
      summary: 'calls waiting for a person',
      need: () => ({ capability: 'read', scroll: 'console' }),
      tag: 'console',
    },
    (c) => c.json({ pending: pendingApprovals(ledger, new Date()) }),
  );
  const decisionSchema = z.strictObject({ approved: z.boolean(), reason: z.string().min(1).max(2000) });
  route(
    'post',
    '/v1/console/approvals/:action',
    {
      summary: 'approve or reject a held call; the approver is the token holder (needs admin on console)',
      need: () => ({ capability: 'admin', scroll: 'console' }),
      body: decisionSchema,
      tag: 'console',
    },
    async (c) => {
      const decision = validate(decisionSchema, await jsonBody(c, options.maxRequestBytes), 'body');
      const receipt = await decideAction(
        ledger,
        c.req.param('action') ?? '',
        { ...decision, approver: c.get('caller').claims?.sub ?? 'anonymous' },
        new Date(),
      );
      return c.json(receipt, 201);
    },
  );
  const killSchema = z.strictObject({ reason: z.string().min(1).max(2000) });
  route(
    'post',
    '/v1/console/sessions/:session/kill',
    {
      summary: 'end a session from outside: every later call of it is refused (needs admin on console)',
      need: () => ({ capability: 'admin', scroll: 'console' }),
      body: killSchema,
      tag: 'console',
    },
    async (c) => {
      const { reason } = validate(killSchema, await jsonBody(c, options.maxRequestBytes), 'body');
      const outcome = await killSession(
        ledger,
        c.req.param('session') ?? '',
        reason,
        c.get('caller').claims?.sub ?? 'anonymous',
        new Date(),
      );
      return c.json(outcome, 201);
    },
  );

  // The seed's Guardian routes.
  route(
    'get',
    '/guardian/anchor-status',
    {
      summary: 'last anchor per backend: root, time, age, stale, last failure',
      need: () => ({ capability: 'read', scroll: 'guardian' }),
      tag: 'guardian',
    },
    (c) => c.json(anchorStatus(ledger, options.guardian.config, options.guardian.backends, new Date())),
  );
  route(
    'post',
    '/guardian/anchor-now',
    { summary: 'run one anchor cycle now', need: () => ({ capability: 'anchor' }), tag: 'guardian' },
    async (c) => {
      const result = await options.guardian.cycle();
      return c.json(result, result.outcome === 'diverged' ? 422 : result.outcome === 'failed' ? 502 : 200);
    },
  );

  const { mcp } = options;
  if (mcp !== undefined) {
    route(
      'post',
      '/mcp',
      { summary: 'MCP over streamable HTTP (stateless, JSON responses)', need: () => undefined, tag: 'mcp' },
      async (c) => {
        const server = mcp(c.get('caller'));
        const transport = new WebStandardStreamableHTTPServerTransport({
          sessionIdGenerator: undefined,
          enableJsonResponse: true,
        });
        await server.connect(transport);
        try {
          const body = parseJson(await readBody(c, options.maxRequestBytes), 'request body');
          return await transport.handleRequest(c.req.raw, { parsedBody: body });
        } finally {
          await server.close();
        }
      },
    );
  }
  return app;
}

/** GET parameters for an operation: repeated parameters become lists, `true`/`false` booleans. */
function queryInput(c: Context, operation: AnyOperation): Record<string, unknown> {
  const url = new URL(c.req.url);
  const raw: Record<string, unknown> = {};
  const schema = z.toJSONSchema(operation.input, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, { type?: string }>;
  };
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    const type = schema.properties?.[key]?.type;
    raw[key] = type === 'array' ? values : type === 'boolean' ? values[0] === 'true' : values[0];
  }
  return raw;
}

function withCursor(params: URLSearchParams, name: 'after' | 'before', seq: number): string {
  const next = new URLSearchParams(params);
  next.set(name, String(seq));
  return next.toString();
}

function currentCheckpoint(ledger: Ledger, scroll: string): string {
  const log = ledger.reader(scroll);
  try {
    const published = ledger.checkpoint(log);
    if (published === undefined) {
      throw new VaultMeshError('SEQ_OUT_OF_RANGE', `scroll ${scroll} has no signed checkpoint yet`, {
        hint: 'the node signs one within a second of the first append',
      });
    }
    return published.note;
  } finally {
    log.close();
  }
}

/** What each `vm` command does: parse its arguments, call the ledger, print the result. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { toBase64, toHex } from '../../core/bytes.js';
import { VaultMeshError } from '../../core/errors.js';
import { assertAppendable } from '../../core/receipt.js';
import { parseVerifierKey } from '../../core/note.js';
import { SCROLLS, getReceiptType, getScroll } from '../../core/scrolls/index.js';
import { DataDir, resolveDataDir } from '../../ledger/data-dir.js';
import { initDataDir } from '../../ledger/init.js';
import { Ledger } from '../../ledger/ledger.js';
import { importLegacy, reindexScroll } from '../../ledger/maintenance.js';
import { verifyScroll } from '../../ledger/verify.js';
import type { AnyOperation } from '../../engines/framework/engine.js';
import { parseCount, parseTime, parseWhere } from '../params.js';
import { parseDuration } from '../../core/duration.js';
import { parseTags, readBody } from './args.js';
import { formatGrant, parseGrant } from '../../core/capability-token.js';
import { issueToken, listTokens, revokeToken } from '../../engines/identity/tokens.js';
import type { GlobalOptions } from './main.js';
import { table } from '../../core/table.js';
import { emitResult } from './output.js';
import { VERSION } from '../version.js';

/** Opens the ledger for one command; `repairs` says whether to report what opening writers repaired. */
async function withLedger<T>(
  g: GlobalOptions,
  work: (ledger: Ledger) => Promise<T> | T,
  repairs: 'report' | 'quiet' = 'report',
): Promise<T> {
  const ledger = Ledger.open(resolveDataDir(g.data));
  try {
    return await work(ledger);
  } finally {
    for (const r of repairs === 'report' ? await ledger.recoveries() : []) {
      if (r.tornBytes > 0) {
        process.stderr.write(
          `repaired ${r.scroll}: cut an unfinished last line of ${r.tornBytes} bytes (kept in ${r.keptIn})\n`,
        );
      }
      if (r.caughtUp > 0)
        process.stderr.write(`indexed ${r.caughtUp} ${r.scroll} receipts the sidecar had not covered\n`);
    }
    await ledger.close();
  }
}

export async function init(g: GlobalOptions, dir: string | undefined, o: { name?: string }): Promise<void> {
  const result = await initDataDir(resolveDataDir(dir ?? g.data), o.name);
  emitResult(g.format, result, (r) =>
    [
      `initialized ${r.dataDir}`,
      `node DID:     ${r.did}`,
      `origin:       ${r.origin}`,
      `verifier key: ${r.vkey}`,
    ].join('\n'),
  );
}

/** The data directory of `start` and `serve`: created with a fresh node key on first use. */
async function ensureDataDir(g: GlobalOptions): Promise<string> {
  const root = resolveDataDir(g.data);
  if (!existsSync(new DataDir(root).configFile)) {
    const created = await initDataDir(root);
    process.stderr.write(`initialized a new data directory at ${created.dataDir}\n`);
  }
  return root;
}

export async function start(g: GlobalOptions): Promise<void> {
  await ensureDataDir(g);
  await withLedger(g, (ledger) => {
    const scrolls = SCROLLS.map((s) => ledger.status(s.name));
    const result = {
      dataDir: ledger.dataDir.root,
      did: ledger.identity.did,
      origin: ledger.identity.config.node.origin,
      vkey: ledger.identity.vkey,
      scrolls: scrolls.map((s) => ({
        scroll: s.scroll,
        size: s.size,
        root: toHex(s.root),
        checkpointSize: s.checkpointSize,
      })),
    };
    emitResult(g.format, result, (r) =>
      [
        `VaultMesh node ${r.did}`,
        `data directory: ${r.dataDir}`,
        `verifier key:   ${r.vkey}`,
        '',
        table([['SCROLL', 'RECEIPTS', 'ROOT'], ...r.scrolls.map((s) => [s.scroll, String(s.size), s.root])]),
        '',
        'next: vm emit <scroll> <type> --body JSON, vm receipts <scroll>, vm proof <scroll> <seq>, vm verify',
      ].join('\n'),
    );
  });
}

export async function types(g: GlobalOptions, scrollName: string | undefined): Promise<void> {
  const scrolls = scrollName === undefined ? SCROLLS : [getScroll(scrollName)];
  const result = scrolls.flatMap((s) =>
    s.types.map((t) => ({
      scroll: s.name,
      type: t.type,
      description: t.description,
      fields: Object.keys((t.body as unknown as { shape?: Record<string, unknown> }).shape ?? {}),
    })),
  );
  emitResult(g.format, result, (rows) =>
    table([
      ['SCROLL', 'TYPE', 'FIELDS', 'DESCRIPTION'],
      ...rows.map((r) => [r.scroll, r.type, r.fields.join(',') || '(any)', r.description]),
    ]),
  );
}

export async function emit(
  g: GlobalOptions,
  scroll: string,
  type: string,
  o: { body: string; tags?: string; session?: string },
): Promise<void> {
  const draft = {
    scroll,
    type,
    body: readBody(o.body),
    tags: parseTags(o.tags),
    ...(o.session ? { session_id: o.session } : {}),
  };
  await withLedger(g, async (ledger) => {
    assertAppendable(draft);
    const [appended] = await ledger.emit([draft]);
    const published = await ledger.publish(scroll);
    const receipt = appended!.receipt;
    emitResult(
      g.format,
      { ...receipt, checkpointSize: published.checkpoint.size },
      (r) => `recorded ${r.scroll} seq ${r.seq} (${r.type}) ${r.root_hash}`,
    );
  });
}

export async function receipts(
  g: GlobalOptions,
  scroll: string,
  o: {
    type?: string[];
    from?: string;
    to?: string;
    tag?: string[];
    where?: string[];
    limit: string;
    reverse?: boolean;
  },
): Promise<void> {
  const query = {
    ...(o.type ? { types: o.type } : {}),
    ...(o.from ? { from: parseTime(o.from, '--from') } : {}),
    ...(o.to ? { to: parseTime(o.to, '--to', true) } : {}),
    ...(o.tag ? { tags: o.tag } : {}),
    where: (o.where ?? []).map((w) => parseWhere(w)),
    limit: parseCount(o.limit, '--limit'),
    reverse: o.reverse === true,
  };
  for (const type of query.types ?? []) getReceiptType(getScroll(scroll), type);
  await withLedger(g, (ledger) => {
    const found = ledger.query(scroll, query);
    emitResult(g.format, found, (rows) =>
      rows.length === 0
        ? 'no receipts match'
        : table([
            ['SEQ', 'TS', 'TYPE', 'TAGS', 'ROOT_HASH'],
            ...rows.map((r) => [String(r.seq), r.ts, r.type, r.tags.join(','), r.root_hash]),
          ]),
    );
  });
}

export async function root(g: GlobalOptions, scrollName: string | undefined): Promise<void> {
  await withLedger(g, (ledger) => {
    const scrolls = scrollName === undefined ? SCROLLS : [getScroll(scrollName)];
    const result = scrolls.map((s) => {
      const status = ledger.status(s.name);
      return {
        scroll: s.name,
        file: s.file,
        size: status.size,
        root: toHex(status.root),
        checkpointSize: status.checkpointSize ?? null,
      };
    });
    emitResult(g.format, result, (rows) =>
      table([
        ['SCROLL', 'RECEIPTS', 'CHECKPOINT', 'ROOT (RFC 6962, hex)'],
        ...rows.map((r) => [
          r.scroll,
          String(r.size),
          r.checkpointSize === null ? '-' : String(r.checkpointSize),
          r.root,
        ]),
      ]),
    );
  });
}

export async function checkpoint(g: GlobalOptions, scroll: string): Promise<void> {
  await withLedger(g, async (ledger) => {
    const published = await ledger.publish(scroll);
    const cp = published.checkpoint;
    emitResult(
      g.format,
      { origin: cp.origin, size: cp.size, root: toBase64(cp.rootHash), note: published.note },
      (r) => r.note,
    );
  });
}

export async function vkey(g: GlobalOptions): Promise<void> {
  await withLedger(g, (ledger) => emitResult(g.format, { vkey: ledger.identity.vkey }, (r) => r.vkey));
}

export async function proof(
  g: GlobalOptions,
  scroll: string,
  seqText: string,
  o: { output?: string },
): Promise<void> {
  const seq = parseCount(seqText, 'seq');
  await withLedger(g, async (ledger) => {
    const { anchoredBundle } = await import('../../engines/guardian/bundle.js');
    const bundle = await anchoredBundle(ledger, scroll, seq);
    if (o.output !== undefined) {
      writeFileSync(o.output, bundle);
      process.stderr.write(`wrote ${o.output}\n`);
    } else {
      process.stdout.write(bundle);
    }
  });
}

export async function verify(
  g: GlobalOptions,
  scrollName: string | undefined,
  o: { deep?: boolean },
): Promise<void> {
  await withLedger(g, async (ledger) => {
    const scrolls = scrollName === undefined ? SCROLLS : [getScroll(scrollName)];
    const reports = [];
    for (const s of scrolls) reports.push(await verifyScroll(ledger, s, { deep: o.deep === true }));
    const ok = reports.every((r) => r.ok);
    emitResult(g.format, { ok, scrolls: reports }, (r) =>
      r.scrolls
        .map((s) => {
          const head = `${s.ok ? 'ok  ' : 'FAIL'} ${s.scroll}: ${s.lines} receipts, root ${s.root}`;
          const torn =
            s.tornBytes > 0
              ? [
                  `     note: an unfinished last line of ${s.tornBytes} bytes (never acknowledged) will be cut by the next writer`,
                ]
              : [];
          return [head, ...torn, ...s.findings.map((f) => `     ${f.code}: ${f.message}`)].join('\n');
        })
        .join('\n'),
    );
    if (!ok) process.exitCode = 4;
  });
}

export async function verifyBundle(
  g: GlobalOptions,
  file: string,
  o: { vkey?: string; tsaCa?: string },
): Promise<void> {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (cause) {
    throw new VaultMeshError('IO_ERROR', `cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
  const { verifyBundleReport } = await import('../../engines/guardian/bundle.js');
  const result = await verifyBundleReport(text, {
    verifier: parseVerifierKey(o.vkey ?? readLocalVkey(g)),
    cwd: process.cwd(),
    ...(o.tsaCa === undefined ? {} : { tsaCa: o.tsaCa }),
  });
  emitResult(g.format, result, (r) =>
    [
      `${r.ok ? 'ok' : 'FAIL'}: ${r.scroll} seq ${r.seq} (${r.type}, ${r.ts}) is in the tree of ${r.checkpoint.size} receipts signed by ${r.signedBy.join(', ')}`,
      ...(r.anchor === null
        ? ['no anchor covers it yet (vm guardian anchor-now, then vm proof again)']
        : [
            `anchored in ${r.anchor.id} (${r.anchor.combined_root}):`,
            ...r.anchor.evidence.map((e) => `  ${e.status.padEnd(7)} ${e.backend} (${e.kind}): ${e.detail}`),
          ]),
    ].join('\n'),
  );
  if (!result.ok) process.exitCode = 4;
}

function readLocalVkey(g: GlobalOptions): string {
  const path = new DataDir(resolveDataDir(g.data)).verifierKeyFile;
  if (!existsSync(path)) {
    throw new VaultMeshError('INVALID_ARGUMENT', 'no verifier key given', {
      hint: "pass the node's key with --vkey (the node prints it with: vm vkey)",
    });
  }
  return readFileSync(path, 'utf8').trim();
}

export async function consistency(
  g: GlobalOptions,
  scroll: string,
  oldText: string,
  newText: string | undefined,
): Promise<void> {
  const oldSize = parseCount(oldText, 'old-size');
  const newSize = newText === undefined ? undefined : parseCount(newText, 'new-size');
  await withLedger(g, (ledger) => {
    const c = ledger.consistency(scroll, oldSize, newSize);
    const result = {
      ...c,
      oldRoot: toBase64(c.oldRoot),
      newRoot: toBase64(c.newRoot),
      proof: c.proof.map(toBase64),
    };
    emitResult(g.format, result, (r) =>
      [
        `${r.scroll}: ${r.oldSize} -> ${r.newSize}`,
        `old root ${r.oldRoot}`,
        `new root ${r.newRoot}`,
        ...r.proof,
      ].join('\n'),
    );
  });
}

export async function importFile(
  g: GlobalOptions,
  file: string,
  o: { scroll: string; type?: string },
): Promise<void> {
  await withLedger(g, async (ledger) => {
    const result = await importLegacy(ledger, file, o.scroll, o.type);
    if (result.imported > 0) await ledger.publish(result.scroll);
    emitResult(g.format, result, (r) =>
      r.imported === 0
        ? 'nothing to import'
        : `imported ${r.imported} receipts into ${r.scroll} (seq ${r.firstSeq}..${r.lastSeq})`,
    );
  });
}

export async function reindex(g: GlobalOptions, scrollName: string | undefined): Promise<void> {
  await withLedger(
    g,
    async (ledger) => {
      const scrolls = scrollName === undefined ? SCROLLS : [getScroll(scrollName)];
      const results = [];
      for (const s of scrolls) results.push(await reindexScroll(ledger, s.name));
      emitResult(g.format, results, (rows) =>
        rows.map((r) => `reindexed ${r.scroll}: ${r.size} receipts`).join('\n'),
      );
    },
    'quiet',
  );
}

/** Runs one engine operation against the data directory and prints its result. */
export async function runOperation(g: GlobalOptions, operation: AnyOperation, input: unknown): Promise<void> {
  await withLedger(g, async (ledger) => {
    const output: unknown = await operation.run(
      { ledger, clock: () => new Date(), cwd: process.cwd() },
      input,
    );
    emitResult(
      g.format,
      output,
      (o) => operation.human(o),
      operation.rows === undefined ? undefined : (o) => operation.rows!(o),
    );
    if ((output as { ok?: unknown } | null)?.ok === false) process.exitCode = 4;
  });
}

export async function gate(g: GlobalOptions, engineId: string | undefined): Promise<void> {
  const { ENGINES, findEngine } = await import('../../engines/registry.js');
  const { runGate } = await import('../../engines/framework/gate.js');
  let engines = ENGINES;
  if (engineId !== undefined) {
    const engine = findEngine(engineId);
    if (engine === undefined) {
      throw new VaultMeshError('INVALID_ARGUMENT', `no engine "${engineId}"`, {
        hint: `use one of: ${ENGINES.map((e) => e.id).join(', ')}`,
      });
    }
    engines = [engine];
  }
  const reports = [];
  for (const engine of engines) reports.push(await runGate(engine));
  const ok = reports.every((r) => r.ok);
  emitResult(g.format, { ok, engines: reports }, (r) =>
    r.engines
      .map((e) =>
        [
          `${e.ok ? 'pass' : 'FAIL'} ${e.engine}`,
          ...e.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.check.padEnd(11)} ${c.detail}`),
        ].join('\n'),
      )
      .join('\n'),
  );
  if (!ok) process.exitCode = 4;
}

export async function engineNew(
  g: GlobalOptions,
  name: string,
  o: { root?: string; noun?: string },
): Promise<void> {
  const { scaffoldEngine } = await import('../../engines/framework/scaffold.js');
  const result = scaffoldEngine({ root: o.root ?? process.cwd(), name, ...(o.noun ? { noun: o.noun } : {}) });
  emitResult(g.format, result, (r) =>
    [
      `created engine ${r.engine} (scroll ${r.scroll}):`,
      ...r.created.map((f) => `  + ${f}`),
      ...r.updated.map((f) => `  ~ ${f}`),
      `next: npm run build && node bin/vm.js gate ${r.engine} && npx vitest run ${r.test}`,
    ].join('\n'),
  );
}

export async function tokenCreate(
  g: GlobalOptions,
  o: { subject: string; grant: string[]; expires: string },
): Promise<void> {
  const grants = o.grant.map(parseGrant);
  const ttlMs = parseDuration(o.expires, '--expires');
  await withLedger(g, async (ledger) => {
    const issued = await issueToken(ledger, { subject: o.subject, grants, ttlMs }, new Date());
    emitResult(g.format, issued, (r) =>
      [
        `token ${r.claims.id} for ${r.claims.sub}: ${r.claims.grants.map(formatGrant).join(', ')}, until ${r.claims.exp}`,
        `(recorded as identity seq ${r.seq}; the token is not stored anywhere: keep it now)`,
        r.token,
      ].join('\n'),
    );
  });
}

export async function tokenRevoke(g: GlobalOptions, id: string, o: { reason: string }): Promise<void> {
  await withLedger(g, async (ledger) => {
    const receipt = await revokeToken(ledger, id, o.reason);
    emitResult(g.format, receipt, (r) => `revoked token ${id} (identity seq ${r.seq})`);
  });
}

export async function tokenList(g: GlobalOptions): Promise<void> {
  await withLedger(g, (ledger) => {
    const tokens = listTokens(ledger);
    emitResult(g.format, tokens, (rows) =>
      rows.length === 0
        ? 'no tokens issued'
        : table([
            ['ID', 'SUBJECT', 'GRANTS', 'GRANTED BY', 'EXPIRES', 'STATE'],
            ...rows.map((t) => [
              t.id,
              t.subject,
              t.grants.map(formatGrant).join(','),
              t.granted_by,
              t.expires_at,
              t.revoked ? 'revoked' : Date.parse(t.expires_at) <= Date.now() ? 'expired' : 'valid',
            ]),
          ]),
    );
  });
}

export async function serve(g: GlobalOptions, o: { host?: string; port?: string }): Promise<void> {
  const root = await ensureDataDir(g);
  const [{ startNode }, { ENGINE_SURFACES }] = await Promise.all([
    import('../http/node.js'),
    import('../../engines/registry.js'),
  ]);
  const node = await startNode({
    dataDir: root,
    version: VERSION,
    engines: ENGINE_SURFACES,
    ...(o.host === undefined ? {} : { host: o.host }),
    ...(o.port === undefined ? {} : { port: parseCount(o.port, '--port') }),
  });
  emitResult(g.format, { url: node.url, did: node.ledger.identity.did, dataDir: root }, (r) =>
    [
      `VaultMesh node ${r.did} listening on ${r.url}`,
      `data directory: ${r.dataDir}`,
      'stop with Ctrl-C',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void node.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export async function mcp(g: GlobalOptions): Promise<void> {
  const { serveStdio } = await import('../mcp/stdio.js');
  const token = process.env.VAULTMESH_TOKEN;
  await serveStdio({
    dataDir: resolveDataDir(g.data),
    version: VERSION,
    ...(token === undefined || token === '' ? {} : { token }),
  });
}

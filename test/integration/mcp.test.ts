/**
 * The MCP server end to end: the built server runs in a child process over stdio and is driven by
 * the official SDK client, against a data directory written by the real `vm` binary. Covers the
 * tool list, searches, roots and proofs, appends under capability tokens, refusals recorded in
 * the Identity scroll, engine operations, and the Console tools against agent events delivered by
 * the real `vm console hook` to a running node.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OBSERVABILITY_FILE,
  VM_BIN,
  answerBody,
  assertBuilt,
  entryBody,
  initNode,
  makeTempDir,
  readReceipts,
  vm,
  vmAsync,
  vmJson,
  type VmResult,
} from '../helpers/vm.js';
import type { SessionState } from '../../src/core/console/session.js';

assertBuilt();

/** `vm mcp` on the test's data directory. */
const MCP_ARGS = (dir: string) => [VM_BIN, '--data', dir, 'mcp'];

interface Receipt {
  seq: number;
  type: string;
  tags: string[];
  body: Record<string, unknown>;
}

const tmp = makeTempDir('mcp');
const data = join(tmp.dir, 'data');
const clients: Client[] = [];

function issueToken(grants: string | readonly string[], subject = 'agent'): { token: string; id: string } {
  const grantArgs = (typeof grants === 'string' ? [grants] : grants).flatMap((g) => ['--grant', g]);
  const issued = vmJson<{ token: string; claims: { id: string } }>(
    ['token', 'create', '--subject', subject, ...grantArgs, '--expires', '1h'],
    { data },
  );
  return { token: issued.token, id: issued.claims.id };
}

/** `vm mcp` over stdio; `env` adds to the SDK's default environment of the server process. */
async function connect(token?: string, env: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'vaultmesh-test', version: '0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: MCP_ARGS(data),
      env: { ...env, ...(token === undefined ? {} : { VAULTMESH_TOKEN: token }) },
      stderr: 'pipe',
    }),
  );
  clients.push(client);
  return client;
}

/** MCP over streamable HTTP at /mcp of a running `vm serve`. */
async function connectHttp(url: string, token?: string): Promise<Client> {
  const client = new Client({ name: 'vaultmesh-http-test', version: '0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
      requestInit: token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  clients.push(client);
  return client;
}

/** `vm serve` on the test's data directory, on a free port; stop it with `stop()`. */
async function startServe(): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = spawn(process.execPath, [VM_BIN, '--data', data, 'serve', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
      if (m !== null) resolve(m[0]);
    });
    server.once('exit', (code) => reject(new Error(`vm serve exited ${code}`)));
  });
  return {
    url,
    stop: async () => {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    },
  };
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

function text(result: CallToolResult): string {
  const first = result.content[0];
  if (first?.type !== 'text') throw new Error(`expected text content, got ${JSON.stringify(result.content)}`);
  return first.text;
}

/** The JSON a successful tool call returned; fails the test with the tool's error otherwise. */
async function ok<T>(client: Client, name: string, args: Record<string, unknown>): Promise<T> {
  const result = await call(client, name, args);
  if (result.isError === true) throw new Error(`${name} failed: ${text(result)}`);
  return JSON.parse(text(result)) as T;
}

/** The text of a failed tool call. */
async function failure(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const result = await call(client, name, args);
  expect(result.isError, text(result)).toBe(true);
  return text(result);
}

const IDENTITY_FILE = 'receipts/identity/identity_events.jsonl';

function authzDenials(): Record<string, unknown>[] {
  return readReceipts(join(data, IDENTITY_FILE))
    .filter((r) => r.type === 'identity_authz_decision')
    .map((r) => r.body as Record<string, unknown>);
}

let anonymous: Client;

beforeAll(async () => {
  initNode(data);
  for (const [id, tags] of [
    ['e-0', 'payroll'],
    ['e-1', 'payroll,q4'],
    ['e-2', 'q4'],
  ] as const) {
    const r = vm(
      [
        'emit',
        'observability',
        'obs_metric_snapshot',
        '--body',
        JSON.stringify(entryBody(id)),
        '--tags',
        tags,
      ],
      {
        data,
      },
    );
    if (r.status !== 0) throw new Error(`vm emit failed: ${r.stderr}`);
  }
  anonymous = await connect();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  tmp.remove();
});

describe('MCP server over stdio', () => {
  it('lists the ledger tools and the remote engine operations, each with an input schema', async () => {
    const { tools } = await anonymous.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'receipts_search',
        'scroll_roots',
        'checkpoint',
        'proof_bundle',
        'consistency_proof',
        'verify_bundle',
        'emit_receipt',
        'drills_status',
        'drills_next',
        'drills_abort',
        'drills_seal',
        'drills_query',
        'remembrancer_query',
        'remembrancer_list',
        'console_session_list',
        'console_session_status',
        'console_receipts_search',
        'console_approve_action',
        'console_spawn_agent',
        'treasury_credit',
        'treasury_balance',
        'treasury_settle_propose',
        'treasury_settle_sign',
        'mesh_node_list',
        'identity_did_show',
      ]),
    );
    // Local operations take files on the caller's machine: never offered remotely.
    for (const local of [
      'drills_plan',
      'drills_init',
      'drills_complete_stage',
      'remembrancer_record',
      'remembrancer_verify',
    ])
      expect(names).not.toContain(local);
    for (const t of tools) {
      expect(t.inputSchema.type, t.name).toBe('object');
      expect(t.description, t.name).toBeTruthy();
    }
    const search = tools.find((t) => t.name === 'receipts_search')!;
    expect(search.inputSchema.required).toEqual(['scroll']);
    expect(search.annotations?.readOnlyHint).toBe(true);
  });

  it('receipts_search finds receipts emitted with the CLI, by type, tag and body field', async () => {
    const all = await ok<Receipt[]>(anonymous, 'receipts_search', {
      scroll: 'observability',
      type: ['obs_metric_snapshot'],
    });
    expect(all.map((r) => r.body.entry_id)).toEqual(['e-0', 'e-1', 'e-2']);
    const q4 = await ok<Receipt[]>(anonymous, 'receipts_search', {
      scroll: 'observability',
      tag: ['q4'],
      reverse: true,
    });
    expect(q4.map((r) => r.seq)).toEqual([2, 1]);
    const one = await ok<Receipt[]>(anonymous, 'receipts_search', {
      scroll: 'Observability',
      where: { entry_id: 'e-1', amount: '12.50' },
      from: '2000-01-01',
      to: new Date(Date.now() + 60_000).toISOString(),
      limit: 1,
    });
    expect(one.map((r) => r.seq)).toEqual([1]);
    const structured = await call(anonymous, 'receipts_search', { scroll: 'observability', limit: 1 });
    expect((structured.structuredContent as { result: Receipt[] }).result).toHaveLength(1);
  });

  it('scroll_roots matches vm root', async () => {
    const [row] = await ok<Array<{ scroll: string; size: number; root: string; checkpointSize: number }>>(
      anonymous,
      'scroll_roots',
      { scroll: 'observability' },
    );
    const cli = vmJson<Array<{ root: string }>>(['root', 'observability'], { data });
    expect(row).toMatchObject({ scroll: 'observability', size: 3, root: cli[0]!.root, checkpointSize: 3 });
    const every = await ok<unknown[]>(anonymous, 'scroll_roots', {});
    expect(every.length).toBeGreaterThan(10);
  });

  it('checkpoint and consistency_proof describe the same tree', async () => {
    const cp = await ok<{ origin: string; size: number; root: string; note: string }>(
      anonymous,
      'checkpoint',
      {
        scroll: 'observability',
      },
    );
    expect(cp.size).toBe(3);
    expect(cp.origin).toMatch(/\/observability$/);
    expect(cp.note).toContain(cp.root);
    const c = await ok<{ oldSize: number; newSize: number; newRoot: string; proof: string[] }>(
      anonymous,
      'consistency_proof',
      { scroll: 'observability', old_size: 1 },
    );
    expect(c).toMatchObject({ oldSize: 1, newSize: 3, newRoot: cp.root });
    expect(c.proof.length).toBeGreaterThan(0);
    expect(await failure(anonymous, 'consistency_proof', { scroll: 'observability', old_size: 9 })).toMatch(
      /^error\[SEQ_OUT_OF_RANGE\]/,
    );
  });

  it('proof_bundle round-trips through verify_bundle (and vm verify-bundle); a tampered bundle fails', async () => {
    const { bundle, parsed } = await ok<{ bundle: string; parsed: { receipt: string } }>(
      anonymous,
      'proof_bundle',
      {
        scroll: 'observability',
        seq: 1,
      },
    );
    expect(JSON.parse(parsed.receipt)).toMatchObject({ seq: 1 });
    const verified = await ok<{ ok: boolean; scroll: string; seq: number }>(anonymous, 'verify_bundle', {
      bundle,
    });
    expect(verified).toMatchObject({ ok: true, scroll: 'observability', seq: 1 });

    const file = join(tmp.dir, 'bundle.json');
    writeFileSync(file, bundle);
    expect(vm(['verify-bundle', file], { data }).status).toBe(0);

    const forged = JSON.stringify({ ...parsed, receipt: parsed.receipt.replace('"12.50"', '"99.50"') });
    expect(await failure(anonymous, 'verify_bundle', { bundle: forged })).toMatch(
      /^error\[(BUNDLE_INVALID|INCLUSION_MISMATCH)\]/,
    );
    expect(await failure(anonymous, 'verify_bundle', { bundle, vkey: 'not-a-key' })).toMatch(
      /^error\[INVALID_KEY\]/,
    );
  });

  it('refuses emit_receipt without a token, and records the refusal in the Identity scroll', async () => {
    const before = authzDenials().length;
    const refused = await failure(anonymous, 'emit_receipt', {
      scroll: 'observability',
      type: 'obs_metric_snapshot',
      body: entryBody('anon'),
    });
    expect(refused).toMatch(/^error\[UNAUTHENTICATED\]: .*\n {2}hint: /);
    const denials = authzDenials();
    expect(denials).toHaveLength(before + 1);
    expect(denials.at(-1)).toMatchObject({
      decision: 'deny',
      action: 'mcp emit_receipt',
      code: 'UNAUTHENTICATED',
      origin_kind: 'mcp',
      required: 'storage:observability',
    });
    expect(readReceipts(join(data, OBSERVABILITY_FILE))).toHaveLength(3);
  });

  it('appends with a storage token, and refuses other scrolls and engine writes', async () => {
    const agent = await connect(issueToken(['storage:observability', 'storage:compliance']).token);
    const receipt = await ok<Receipt & { checkpointSize: number }>(agent, 'emit_receipt', {
      scroll: 'observability',
      type: 'obs_metric_snapshot',
      body: entryBody('e-3'),
      tags: ['agent'],
    });
    expect(receipt).toMatchObject({
      seq: 3,
      type: 'obs_metric_snapshot',
      tags: ['agent'],
      checkpointSize: 4,
    });
    const found = await ok<Receipt[]>(anonymous, 'receipts_search', {
      scroll: 'observability',
      tag: ['agent'],
    });
    expect(found.map((r) => r.body.entry_id)).toEqual(['e-3']);

    expect(
      await failure(agent, 'emit_receipt', {
        scroll: 'mesh',
        type: 'mesh_route_change',
        body: { route: 'r' },
      }),
    ).toMatch(/^error\[FORBIDDEN\]: .*lacks storage:mesh/);
    expect(await failure(agent, 'drills_abort', { reason: 'stop' })).toMatch(
      /^error\[FORBIDDEN\]: .*lacks storage:drills/,
    );
    // A bad body is the ledger's refusal, after authorization.
    expect(
      await failure(agent, 'emit_receipt', { scroll: 'compliance', type: 'oracle_answer', body: {} }),
    ).toMatch(/^error\[INVALID_BODY\]: body\.question/);
    expect(
      await failure(agent, 'emit_receipt', {
        scroll: 'compliance',
        type: 'oracle_answer',
        body: answerBody({ citations_used: 'policy/retention.md' }),
      }),
    ).toMatch(/^error\[INVALID_BODY\]: body\.citations_used/);
    expect(readReceipts(join(data, 'receipts/compliance/oracle_answers.jsonl'))).toHaveLength(0);
  });

  it('refuses emit_receipt of a type its engine alone writes (RESERVED_TYPE), even with storage on it', async () => {
    const agent = await connect(issueToken(['storage:identity', 'storage:treasury']).token);
    const identityBefore = readReceipts(join(data, IDENTITY_FILE));
    const refused = await failure(agent, 'emit_receipt', {
      scroll: 'identity',
      type: 'identity_did_create',
      body: { did: 'did:vm:human:mallory' },
    });
    expect(refused).toMatch(
      /^error\[RESERVED_TYPE\]: identity_did_create receipts cannot be appended directly\n {2}hint: .*Identity engine/,
    );
    expect(
      await failure(agent, 'emit_receipt', {
        scroll: 'treasury',
        type: 'treasury_credit',
        body: entryBody('reserved'),
      }),
    ).toMatch(/^error\[RESERVED_TYPE\]: treasury_credit /);
    expect(readReceipts(join(data, IDENTITY_FILE))).toEqual(identityBefore);
    expect(readReceipts(join(data, 'receipts/treasury/treasury_events.jsonl'))).toHaveLength(0);
  });

  it('stops honouring a token revoked during the session, within a second', async () => {
    const { token, id } = issueToken('storage:observability');
    const agent = await connect(token);
    expect(vm(['token', 'revoke', id, '--reason', 'test'], { data }).status).toBe(0);
    // A checked token is trusted for one second before its revocation is looked up again.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const args = { scroll: 'observability', type: 'obs_metric_snapshot', body: entryBody('late') };
    expect(await failure(agent, 'emit_receipt', args)).toMatch(/^error\[TOKEN_REVOKED\]/);
    expect(authzDenials().at(-1)).toMatchObject({ action: 'mcp emit_receipt', code: 'TOKEN_REVOKED' });
  });

  it('refuses to start with a revoked token: exit 7, the error on stderr, nothing on stdout', () => {
    const { token, id } = issueToken('storage:observability');
    expect(vm(['token', 'revoke', id, '--reason', 'test'], { data }).status).toBe(0);
    const run = spawnSync(process.execPath, MCP_ARGS(data), {
      encoding: 'utf8',
      input: '',
      env: { ...process.env, VAULTMESH_TOKEN: token },
    });
    expect(run.status).toBe(7);
    expect(run.stderr).toMatch(/^error\[TOKEN_REVOKED\]: token .* was revoked/);
    expect(run.stdout).toBe('');
    expect(authzDenials().at(-1)).toMatchObject({ action: 'mcp start', code: 'TOKEN_REVOKED' });
  });

  it('anchor_status is open, anchor_now needs the anchor capability and runs a Guardian cycle', async () => {
    const anonymous = await connect();
    const status = await call(anonymous, 'anchor_status', {});
    expect(status.isError).toBeUndefined();
    expect(text(status)).toContain('"backend": "local"');
    expect(await failure(anonymous, 'anchor_now', {})).toMatch(/^error\[UNAUTHENTICATED\]/);
    const anchorer = await connect(issueToken('anchor').token);
    const anchored = await call(anchorer, 'anchor_now', {});
    expect(anchored.isError, JSON.stringify(anchored.content)).toBeUndefined();
    expect(text(anchored)).toContain('"outcome": "anchored"');
  });

  it('runs the Treasury: amounts only as decimal strings, accounts with admin, exact balances', async () => {
    const writer = await connect(issueToken('storage:treasury', 'treasury-writer').token);
    const admin = await connect(issueToken(['admin:treasury', 'storage:treasury'], 'treasury-admin').token);
    const open = { account: 'mcp-ops', type: 'operational', currency: 'EUR' };
    expect(await failure(writer, 'treasury_account_open', open)).toMatch(
      /^error\[FORBIDDEN\]: .*admin:treasury/,
    );
    await ok(admin, 'treasury_account_open', open);
    expect(
      await failure(writer, 'treasury_credit', { account: 'mcp-ops', amount: 0.1, memo: 'float' }),
    ).toMatch(
      /amounts are decimal strings such as "12\.50", never numbers \(a number is a float\) at amount$/,
    );
    for (const amount of ['0.1', '0.2'])
      await ok(writer, 'treasury_credit', {
        account: 'mcp-ops',
        amount,
        memo: 'm',
        entryId: `mcp-${amount}`,
      });
    const again = await ok<{ already: boolean }>(writer, 'treasury_credit', {
      account: 'mcp-ops',
      amount: '0.10',
      memo: 'm',
      entryId: 'mcp-0.1',
    });
    expect(again.already).toBe(true);
    const books = await ok<{ accounts: { account_id: string; balance: string }[] }>(
      anonymous,
      'treasury_balance',
      {
        account: 'mcp-ops',
      },
    );
    expect(books.accounts).toEqual([expect.objectContaining({ account_id: 'mcp-ops', balance: '0.30' })]);
    expect(
      await failure(writer, 'treasury_debit', { account: 'mcp-ops', amount: '0.31', memo: 'too much' }),
    ).toMatch(/^error\[INSUFFICIENT_FUNDS\]: /);
  });

  it('runs engine operations: drills_query and remembrancer_list on empty scrolls', async () => {
    const result = await call(anonymous, 'drills_query', {});
    expect(result.isError).toBeFalsy();
    expect(JSON.parse(text(result))).toEqual([]);
    expect(await ok(anonymous, 'remembrancer_list', { what: 'components' })).toEqual({
      what: 'components',
      rows: [],
    });
    expect(await ok(anonymous, 'drills_status', {})).toEqual([]);
  });

  it('names the field of bad input, and the scroll of an unknown one', async () => {
    expect(await failure(anonymous, 'receipts_search', { scroll: 'observability', limit: 0 })).toMatch(
      /limit/,
    );
    expect(
      await failure(anonymous, 'receipts_search', { scroll: 'observability', where: { 'a b': 1 } }),
    ).toMatch(/where/);
    expect(
      await failure(anonymous, 'receipts_search', { scroll: 'observability', from: '2026-02-30' }),
    ).toMatch(/from/);
    expect(await failure(anonymous, 'remembrancer_list', { what: 'everything' })).toMatch(/what/);
    expect(await failure(anonymous, 'receipts_search', { scroll: 'nope' })).toMatch(
      /^error\[UNKNOWN_SCROLL\]/,
    );
    expect(await failure(anonymous, 'receipts_search', { scroll: 'observability', type: ['nope'] })).toMatch(
      /^error\[UNKNOWN_TYPE\]/,
    );
  });

  it('answers requests already written when stdin ends, then exits cleanly', async () => {
    const child = spawn(process.execPath, MCP_ARGS(data), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const messages = [
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'pipe', version: '0' },
        },
      },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'proof_bundle', arguments: { scroll: 'observability', seq: 0 } },
      },
    ];
    child.stdin.end(messages.map((m) => `${JSON.stringify(m)}\n`).join(''));
    expect(await exited).toBe(0);
    const replies = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: number; result: CallToolResult });
    expect(replies.map((r) => r.id)).toEqual([1, 2]);
    expect(replies[1]!.result.isError).toBeUndefined();
  });
});

describe('MCP over streamable HTTP at /mcp of vm serve', () => {
  let node: { url: string; stop: () => Promise<void> };

  beforeAll(async () => {
    node = await startServe();
  });

  afterAll(async () => {
    await node.stop();
  });

  const connectHttpHere = (token?: string) => connectHttp(node.url, token);

  it('lists the same tools, searches, and appends only with the capability', async () => {
    const anonymous = await connectHttpHere();
    const names = (await anonymous.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['receipts_search', 'emit_receipt', 'drills_query']));
    expect(names).not.toContain('drills_plan');
    const found = await call(anonymous, 'receipts_search', { scroll: 'observability', limit: 1 });
    expect(found.isError).toBeUndefined();
    const refused = await call(anonymous, 'emit_receipt', {
      scroll: 'observability',
      type: 'obs_metric_snapshot',
      body: entryBody('mcp-http-0'),
    });
    expect(refused.isError).toBe(true);
    expect(JSON.stringify(refused.content)).toContain('UNAUTHENTICATED');

    const { token } = issueToken('storage:observability');
    const writer = await connectHttpHere(token);
    const before = readReceipts(join(data, OBSERVABILITY_FILE)).length;
    const appended = await call(writer, 'emit_receipt', {
      scroll: 'observability',
      type: 'obs_metric_snapshot',
      body: entryBody('mcp-http-1'),
    });
    expect(appended.isError, JSON.stringify(appended.content)).toBeUndefined();
    expect(readReceipts(join(data, OBSERVABILITY_FILE))).toHaveLength(before + 1);
  });

  it('refuses a forged bearer token before serving anything', async () => {
    const { token } = issueToken('storage:observability');
    // A character well inside the signature: the last one also carries padding bits.
    const at = token.length - 10;
    const forged = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
    await expect(connectHttpHere(forged)).rejects.toThrow(/401|TOKEN_INVALID/);
  });
});

describe('Console tools, against events the real hook delivered to vm serve', () => {
  let node: { url: string; stop: () => Promise<void> };
  let hookToken: string;
  const stateDir = join(tmp.dir, 'hook-state');
  const session = 'mcp-console-1';

  /** A Claude Code hook payload (its documented common fields, then the event's own). */
  function payload(event: string, fields: Record<string, unknown> = {}): string {
    return JSON.stringify({
      session_id: session,
      transcript_path: join(tmp.dir, 'transcript.jsonl'),
      cwd: tmp.dir,
      permission_mode: 'default',
      hook_event_name: event,
      ...fields,
    });
  }

  function hookOptions(input: string) {
    return { input, env: { VAULTMESH_TOKEN: hookToken, VAULTMESH_STATE_DIR: stateDir } };
  }

  /** One `vm console hook` process, as Claude Code runs it; expects it to let the event through. */
  function hook(event: string, fields: Record<string, unknown> = {}): void {
    const run = vm(['console', 'hook', '--node', node.url], hookOptions(payload(event, fields)));
    expect(run, run.stderr).toMatchObject({ status: 0, stdout: '', stderr: '' });
  }

  /** A PreToolUse for a `git push` in a background hook process: it waits until someone decides. */
  function heldPush(toolUseId: string): Promise<VmResult> {
    return vmAsync(
      ['console', 'hook', '--node', node.url, '--wait', '60'],
      hookOptions(
        payload('PreToolUse', {
          tool_name: 'Bash',
          tool_input: { command: `git push origin main # ${toolUseId}` },
          tool_use_id: toolUseId,
        }),
      ),
    );
  }

  async function pendingFor(toolUseCount: number): Promise<SessionState['pending_approvals']> {
    for (let i = 0; i < 200; i++) {
      const state = await ok<SessionState>(anonymous, 'console_session_status', { session_id: session });
      if (state.pending_approvals.length === toolUseCount) return state.pending_approvals;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no ${toolUseCount} pending approval(s) within 20 s`);
  }

  beforeAll(async () => {
    node = await startServe();
    hookToken = issueToken('storage:console', 'did:vm:agent:claude-code-test').token;
    const file = join(tmp.dir, 'notes.txt');
    writeFileSync(file, 'before\n');
    hook('SessionStart', { source: 'startup', model: 'claude-test' });
    hook('UserPromptSubmit', { prompt: 'list the files, then fix the notes' });
    const ls = { tool_name: 'Bash', tool_input: { command: 'ls' }, tool_use_id: 'toolu-ls' };
    hook('PreToolUse', ls);
    hook('PostToolUse', { ...ls, tool_response: { stdout: 'notes.txt\n', exit_code: 0 } });
    const edit = {
      tool_name: 'Edit',
      tool_input: { file_path: file, old_string: 'before', new_string: 'after' },
      tool_use_id: 'toolu-edit',
    };
    hook('PreToolUse', edit);
    writeFileSync(file, 'after\n');
    hook('PostToolUse', { ...edit, tool_response: { filePath: file } });
  });

  afterAll(async () => {
    await node.stop();
  });

  it('console_session_list and console_session_status show the state derived from the receipts', async () => {
    const sessions = await ok<SessionState[]>(anonymous, 'console_session_list', {});
    const listed = sessions.find((s) => s.session_id === session);
    expect(listed).toMatchObject({
      status: 'active',
      agent_type: 'claude-code',
      commands_executed: 1,
      files_modified: 1,
      tool_calls: 2,
      prompts: 1,
      pending_approvals: [],
    });
    const status = await ok<SessionState>(anonymous, 'console_session_status', { session_id: session });
    expect(status).toEqual(listed);
    expect(
      (await ok<SessionState[]>(anonymous, 'console_session_list', { status: 'active' })).map(
        (s) => s.session_id,
      ),
    ).toContain(session);
    expect(await ok(anonymous, 'console_session_list', { status: 'ended' })).toEqual([]);
    expect(await ok(anonymous, 'console_session_list', { agent_type: 'opencode' })).toEqual([]);
    expect(await failure(anonymous, 'console_session_status', { session_id: 'no-such-session' })).toMatch(
      /^error\[UNKNOWN_SESSION\]/,
    );
    expect(await failure(anonymous, 'console_session_list', { status: 'paused' })).toMatch(/status/);
  });

  it('console_receipts_search returns the receipts newest first, by session and type', async () => {
    const all = await ok<Array<Receipt & { session_id?: string }>>(anonymous, 'console_receipts_search', {
      session_id: session,
    });
    expect(all.map((r) => r.type)).toEqual([
      'console_file_edit',
      'console_tool_call',
      'console_command',
      'console_tool_call',
      'console_prompt',
      'console_session_start',
    ]);
    expect(all.every((r) => r.session_id === session)).toBe(true);
    const seqs = all.map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    const commands = await ok<Receipt[]>(anonymous, 'console_receipts_search', {
      session_id: session,
      type: ['console_command'],
    });
    expect(commands).toHaveLength(1);
    expect(commands[0]!.body).toMatchObject({ command: 'ls', exit_code: 0 });
    // Without a session: the whole scroll, the genesis receipt included; limit counts from the newest.
    const newest = await ok<Receipt[]>(anonymous, 'console_receipts_search', { limit: 2 });
    expect(newest.map((r) => r.seq)).toEqual([seqs[0], seqs[1]]);
    const genesis = await ok<Receipt[]>(anonymous, 'console_receipts_search', { type: ['console_genesis'] });
    expect(genesis).toHaveLength(1);
    expect(await failure(anonymous, 'console_receipts_search', { type: ['treasury_credit'] })).toMatch(
      /^error\[UNKNOWN_TYPE\]/,
    );
  });

  it('console_approve_action decides a held git push, needs admin on console, and decides once', async () => {
    const push = heldPush('toolu-push-1');
    const [pending] = await pendingFor(1);
    expect(pending).toMatchObject({ tool_name: 'Bash', rule: 'git_push' });
    const decision = { action_id: pending!.action_id, approved: true, reason: 'release day' };

    expect(await failure(anonymous, 'console_approve_action', decision)).toMatch(/^error\[UNAUTHENTICATED\]/);
    const writer = await connect(hookToken);
    expect(await failure(writer, 'console_approve_action', decision)).toMatch(
      /^error\[FORBIDDEN\]: .*lacks admin:console/,
    );
    expect(authzDenials().at(-1)).toMatchObject({
      action: 'mcp console_approve_action',
      code: 'FORBIDDEN',
      required: 'admin:console',
    });
    // Still waiting: a refusal decides nothing.
    expect(await pendingFor(1)).toEqual([pending]);

    const reviewer = await connect(issueToken('admin:console', 'did:vm:human:reviewer').token);
    const approval = await ok<Receipt & { session_id: string }>(reviewer, 'console_approve_action', decision);
    expect(approval).toMatchObject({
      type: 'console_approval',
      session_id: session,
      body: {
        approved: true,
        approver: 'did:vm:human:reviewer',
        reason: 'release day',
        decided_by: 'person',
        action_id: pending!.action_id,
        tool_name: 'Bash',
      },
    });
    // The hook lets the call run: exit 0 and no decision output.
    expect(await push).toMatchObject({ status: 0, stdout: '' });
    expect(await failure(reviewer, 'console_approve_action', { ...decision, approved: false })).toMatch(
      /^error\[ACTION_DECIDED\]: .*already approved by did:vm:human:reviewer/,
    );
    expect(
      await failure(reviewer, 'console_approve_action', { ...decision, action_id: 'act-0000000000000000' }),
    ).toMatch(/^error\[UNKNOWN_ACTION\]/);

    // A refusal, over HTTP this time: the hook answers Claude Code with a deny and the reason.
    const refused = heldPush('toolu-push-2');
    const [second] = await pendingFor(1);
    const overHttp = await connectHttp(node.url, issueToken('admin:console', 'did:vm:human:second').token);
    await ok(overHttp, 'console_approve_action', {
      action_id: second!.action_id,
      approved: false,
      reason: 'not on a Friday',
    });
    const denied = await refused;
    expect(denied.status).toBe(0);
    expect(JSON.parse(denied.stdout)).toMatchObject({
      hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny' },
    });
    expect(denied.stdout).toContain('not on a Friday');

    const state = await ok<SessionState>(anonymous, 'console_session_status', { session_id: session });
    expect(state).toMatchObject({
      approvals_requested: 2,
      approvals_granted: 1,
      approvals_denied: 1,
      pending_approvals: [],
    });
  });

  it('console_spawn_agent needs admin on console, and answers AGENT_NOT_FOUND for a missing agent', async () => {
    const before = await ok<SessionState[]>(anonymous, 'console_session_list', {});
    const args = { agent: 'claude', task: 'fix the notes', project_path: tmp.dir };
    expect(await failure(anonymous, 'console_spawn_agent', args)).toMatch(/^error\[UNAUTHENTICATED\]/);
    // The server's PATH holds no agent, whatever this machine has installed.
    const emptyBin = join(tmp.dir, 'empty-bin');
    mkdirSync(emptyBin, { recursive: true });
    const admin = await connect(issueToken('admin:console', 'did:vm:human:operator').token, {
      PATH: emptyBin,
    });
    expect(await failure(admin, 'console_spawn_agent', args)).toMatch(
      /^error\[AGENT_NOT_FOUND\]: claude is not installed .*\n {2}hint: install it/,
    );
    expect(await failure(admin, 'console_spawn_agent', { ...args, agent: 'opencode' })).toMatch(
      /^error\[AGENT_NOT_FOUND\]: opencode/,
    );
    expect(await failure(admin, 'console_spawn_agent', { ...args, agent: 'cursor' })).toMatch(/agent/);
    expect(
      await failure(admin, 'console_spawn_agent', {
        ...args,
        constraints: { require_approval_for: ['not a rule!'] },
      }),
    ).toMatch(/require_approval_for/);
    // Nothing was started, so nothing was recorded.
    expect(await ok(anonymous, 'console_session_list', {})).toEqual(before);
  });
});

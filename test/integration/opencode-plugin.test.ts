/**
 * The OpenCode plugin (packages/opencode-plugin) against the real node in a child process. The
 * test plays OpenCode: it calls the plugin factory with the context OpenCode passes and drives the
 * hooks with inputs in OpenCode's shapes (packages/plugin/src/index.ts and the SDK's event types):
 * a session, a prompt, shell calls, edits of real files, a failed edit, a real `git commit`, and two
 * `git push` calls the node holds for a person, one approved and one rejected with the real CLI.
 * The session the node derives from its receipts must match, count for count, and its audit must
 * find nothing missing. With no node to ask, a call about to run is refused and nothing else throws.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import canonicalize from 'canonicalize';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it, vi } from 'vitest';
import VaultMeshConsolePlugin from '../../packages/opencode-plugin/src/index.js';
import type { ConsoleEvent as PluginEvent } from '../../packages/opencode-plugin/src/events.js';
import type { Hooks } from '../../packages/opencode-plugin/src/opencode.js';
import type { ConsoleEvent } from '../../src/core/console/events.js';
import type { Gap, SessionState } from '../../src/core/console/session.js';
import { createToken, startServer, type RunningServer } from '../helpers/node.js';
import { NODE_NAME, assertBuilt, makeTempDir, vmAsync } from '../helpers/vm.js';

assertBuilt();

interface Receipt {
  seq: number;
  type: string;
  session_id?: string;
  body: Record<string, unknown>;
}

/** Per event kind, the fields the plugin may send that the node's schema does not know. */
type FieldsTheNodeRejects = {
  [K in PluginEvent['event']]: Exclude<
    keyof Extract<PluginEvent, { event: K }>,
    keyof Extract<ConsoleEvent, { event: K }>
  >;
}[PluginEvent['event']];

const sha256 = (data: string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ENV_KEYS = ['VAULTMESH_URL', 'VAULTMESH_TOKEN', 'VAULTMESH_SESSION_ID'] as const;

/** Runs the plugin factory as OpenCode does, with these VAULTMESH_* variables in the environment. */
async function loadPlugin(directory: string, env: Partial<Record<(typeof ENV_KEYS)[number], string>>) {
  const saved = ENV_KEYS.map((key) => [key, process.env[key]] as const);
  for (const key of ENV_KEYS) {
    if (env[key] === undefined) delete process.env[key];
    else process.env[key] = env[key];
  }
  try {
    return await VaultMeshConsolePlugin({ directory });
  } finally {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/** OpenCode's `session.created` bus event for a root session. */
const sessionCreated = (id: string, directory: string) => ({
  event: {
    type: 'session.created',
    properties: {
      info: {
        id,
        projectID: 'prj_test',
        directory,
        title: 'New session',
        version: '1.18.33',
        time: { created: Date.now(), updated: Date.now() },
      },
    },
  },
});

/** Plays one tool call: `tool.execute.before`, the tool's own effect, then `tool.execute.after`. */
async function toolCall(
  hooks: Hooks,
  call: { sessionID: string; callID: string; tool: string; args: Record<string, unknown> },
  run: () => { output: string; metadata: unknown },
): Promise<void> {
  const input = { tool: call.tool, sessionID: call.sessionID, callID: call.callID };
  await hooks['tool.execute.before'](input, { args: call.args });
  const result = run();
  await hooks['tool.execute.after']({ ...input, args: call.args }, { title: call.tool, ...result });
}

describe('the OpenCode plugin with a running node', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let data: string;
  let project: string;
  let server: RunningServer;
  let token: string;
  let hooks: Hooks;
  const sessionID = `ses_${randomBytes(8).toString('hex')}`;

  async function get<T>(path: string): Promise<T> {
    const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async function sessionReceipts(): Promise<Receipt[]> {
    const page = await get<{ receipts: Receipt[] }>('/v1/scrolls/console/receipts?limit=1000');
    return page.receipts.filter((r) => r.session_id === sessionID);
  }

  /** The action id of this session's held call, once the node has recorded it. */
  async function heldAction(tool_use_id: string): Promise<string> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { pending } = await get<{ pending: Array<{ action_id: string; session_id: string }> }>(
        '/v1/console/approvals',
      );
      const held = pending.find((p) => p.session_id === sessionID);
      if (held !== undefined) {
        const pre = (await sessionReceipts()).find(
          (r) => r.body.phase === 'pre' && r.body.tool_use_id === tool_use_id,
        );
        expect(pre?.body.action_id).toBe(held.action_id);
        return held.action_id;
      }
      if (Date.now() > deadline) throw new Error(`no approval pending for ${tool_use_id} within 20 s`);
      await sleep(100);
    }
  }

  async function decide(verb: 'approve' | 'reject', actionId: string, reason: string): Promise<void> {
    const result = await vmAsync(['console', verb, actionId, '--reason', reason], { data });
    expect(result.status, result.stderr).toBe(0);
  }

  const git = (args: string[]) => execFileSync('git', args, { cwd: project, encoding: 'utf8' }).trim();
  const shell = (command: string) => execFileSync('sh', ['-c', command], { cwd: project, encoding: 'utf8' });

  beforeAll(async () => {
    tmp = makeTempDir('opencode');
    data = join(tmp.dir, 'data');
    project = join(tmp.dir, 'project');
    mkdirSync(project);
    git(['init', '-q']);
    writeFileSync(join(project, 'notes.txt'), 'one\ntwo\n');
    const init = await vmAsync(['init', '--name', NODE_NAME], { data });
    expect(init.status, init.stderr).toBe(0);
    token = (await createToken(data, ['storage:console', 'read:console'], { subject: 'opencode-test' }))
      .token;
    server = await startServer(data);
    hooks = await loadPlugin(project, { VAULTMESH_URL: server.url, VAULTMESH_TOKEN: token });
  });

  afterAll(async () => {
    if (server !== undefined) {
      const exit = await server.stop();
      expect(exit, server.stderr()).toEqual({ code: 0, signal: null });
    }
    tmp?.remove();
  });

  it('builds only events the node format accepts', () => {
    expectTypeOf<PluginEvent>().toExtend<ConsoleEvent>();
    // The node rejects unknown fields, which `toExtend` alone would let through.
    expectTypeOf<FieldsTheNodeRejects>().toEqualTypeOf<never>();
  });

  it('records a whole session, holds the pushes for a person and derives exact counts', async () => {
    await hooks.event(sessionCreated(sessionID, project));
    await hooks['chat.message'](
      { sessionID, agent: 'build', model: { providerID: 'anthropic', modelID: 'claude-sonnet-4' } },
      {
        message: { id: 'msg_1', sessionID, role: 'user' },
        parts: [
          { id: 'prt_1', sessionID, messageID: 'msg_1', type: 'text', text: 'fix the bug' },
          { id: 'prt_2', sessionID, messageID: 'msg_1', type: 'text', text: 'notes.txt: …', synthetic: true },
        ],
      },
    );

    const lsArgs = { command: 'ls -la', description: 'Lists files' };
    await toolCall(hooks, { sessionID, callID: 'call_ls', tool: 'bash', args: lsArgs }, () => {
      const output = shell('ls -la');
      return { output, metadata: { output, exit: 0, description: 'Lists files' } };
    });

    const notes = join(project, 'notes.txt');
    const editArgs = { filePath: notes, oldString: 'two', newString: 'three' };
    await toolCall(hooks, { sessionID, callID: 'call_edit', tool: 'edit', args: editArgs }, () => {
      writeFileSync(notes, 'one\nthree\n');
      const filediff = {
        file: notes,
        before: 'one\ntwo\n',
        after: 'one\nthree\n',
        additions: 1,
        deletions: 1,
      };
      return { output: '', metadata: { diagnostics: {}, diff: '', filediff } };
    });

    const created = join(project, 'new.txt');
    await toolCall(
      hooks,
      { sessionID, callID: 'call_write', tool: 'write', args: { filePath: created, content: 'a\nb\nc\n' } },
      () => {
        writeFileSync(created, 'a\nb\nc\n');
        return { output: '', metadata: { diagnostics: {}, filepath: created, exists: false } };
      },
    );

    // A tool that throws gets no tool.execute.after: OpenCode marks its part `error` on the bus.
    const badEdit = { filePath: notes, oldString: 'absent', newString: 'x' };
    await hooks['tool.execute.before']({ tool: 'edit', sessionID, callID: 'call_bad' }, { args: badEdit });
    await hooks.event({
      event: {
        type: 'message.part.updated',
        properties: {
          part: {
            id: 'prt_3',
            sessionID,
            messageID: 'msg_2',
            type: 'tool',
            callID: 'call_bad',
            tool: 'edit',
            state: {
              status: 'error',
              input: badEdit,
              error: 'oldString not found in content',
              time: { start: 1, end: 2 },
            },
          },
        },
      },
    });

    const commit = 'git -c user.name=t -c user.email=t@example.com commit -qam "first"';
    git(['add', '.']);
    await toolCall(
      hooks,
      { sessionID, callID: 'call_commit', tool: 'bash', args: { command: commit, description: 'Commits' } },
      () => ({ output: shell(commit), metadata: { output: '', exit: 0, description: 'Commits' } }),
    );
    const head = git(['rev-parse', 'HEAD']);

    const push = { command: 'git push origin main', description: 'Pushes' };
    const approved = hooks['tool.execute.before'](
      { tool: 'bash', sessionID, callID: 'call_push' },
      { args: push },
    );
    const approvedOutcome = approved.then(
      () => 'allowed',
      (e: Error) => e,
    );
    await decide('approve', await heldAction('call_push'), 'ok');
    expect(await approvedOutcome).toBe('allowed');
    await hooks['tool.execute.after'](
      { tool: 'bash', sessionID, callID: 'call_push', args: push },
      { title: push.command, output: 'Everything up-to-date\n', metadata: { output: '', exit: 0 } },
    );

    const force = { command: 'git push --force origin main', description: 'Force-pushes' };
    const rejected = hooks['tool.execute.before'](
      { tool: 'bash', sessionID, callID: 'call_force' },
      { args: force },
    ).then(
      () => new Error('the call was let through'),
      (e: Error) => e,
    );
    await decide('reject', await heldAction('call_force'), 'no force pushes here');
    expect((await rejected).message).toMatch(/^denied by .+ \(person\): no force pushes here$/);

    await hooks.event({ event: { type: 'session.idle', properties: { sessionID } } });
    await hooks.event({
      event: { type: 'session.deleted', properties: { info: { id: sessionID, directory: project } } },
    });

    const state = await get<SessionState>(`/v1/console/sessions/${sessionID}`);
    expect(state).toMatchObject({
      status: 'ended',
      exit_reason: 'deleted',
      agent_type: 'opencode',
      model_id: 'anthropic/claude-sonnet-4',
      project_path: project,
      prompts: 1,
      tool_calls: 7,
      commands_executed: 3,
      files_modified: 2,
      approvals_requested: 2,
      approvals_granted: 1,
      approvals_denied: 1,
      git_commits: [head],
      pending_approvals: [],
      flags: [],
    });
    const { sessions } = await get<{ sessions: Array<{ session_id: string; gaps: Gap[] }> }>(
      '/v1/console/audit',
    );
    expect(sessions.find((s) => s.session_id === sessionID)?.gaps).toEqual([]);

    // 17 events: start, prompt, pre and outcome of six calls, the refused push, turn end, session end.
    const receipts = await sessionReceipts();
    const agentSeqs = new Set(receipts.map((r) => r.body.agent_seq).filter((n) => n !== undefined));
    expect([...agentSeqs].sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 17 }, (_, i) => i + 1),
    );
    const end = receipts.find((r) => r.type === 'console_session_end');
    expect(end?.body.agent_counters).toEqual({ commands_executed: 3, files_modified: 2, tool_calls: 7 });
    expect(receipts.find((r) => r.type === 'console_prompt')?.body).toMatchObject({
      prompt_hash: sha256('fix the bug'),
      prompt_chars: 11,
    });
    expect(JSON.stringify(receipts)).not.toContain('fix the bug');
    expect(
      receipts.find((r) => r.body.tool_use_id === 'call_ls' && r.body.phase === 'pre')?.body,
    ).toMatchObject({
      tool_name: 'bash',
      params_hash: sha256(canonicalize(lsArgs)!),
      command: 'ls',
    });
    const edits = receipts.filter((r) => r.type === 'console_file_edit');
    expect(edits.map((r) => r.body)).toEqual([
      expect.objectContaining({
        tool_use_id: 'call_edit',
        file_path: notes,
        old_hash: sha256('one\ntwo\n'),
        new_hash: sha256('one\nthree\n'),
        edit_type: 'modify',
        lines_changed: 2,
      }),
      expect.objectContaining({
        tool_use_id: 'call_write',
        file_path: created,
        old_hash: null,
        new_hash: sha256('a\nb\nc\n'),
        edit_type: 'create',
        lines_changed: 3,
      }),
    ]);
    expect(
      receipts.find((r) => r.body.tool_use_id === 'call_bad' && r.body.phase === 'failure')?.body,
    ).toMatchObject({ result_hash: sha256('oldString not found in content'), failed: true });
    expect(receipts.find((r) => r.type === 'console_git_commit')?.body).toMatchObject({
      commit_hash: head,
      files_changed: 2,
      message_hash: sha256('first'),
    });
  });
});

describe('the OpenCode plugin without a node', () => {
  it('refuses a call about to run and lets everything else pass, logging what was lost', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const hooks = await loadPlugin(process.cwd(), { VAULTMESH_URL: `http://127.0.0.1:${closed}` });
      const sessionID = 'ses_offline';
      const call = { tool: 'bash', sessionID, callID: 'call_1' };
      await hooks.event(sessionCreated(sessionID, process.cwd()));
      await hooks['chat.message']({ sessionID }, { message: {}, parts: [{ type: 'text', text: 'hi' }] });
      await expect(hooks['tool.execute.before'](call, { args: { command: 'ls' } })).rejects.toThrow(
        /^VaultMesh could not decide on this call \(cannot reach the VaultMesh node at http:\/\/127\.0\.0\.1:\d+: .+\); calls are refused until the node answers$/,
      );
      await hooks['tool.execute.after'](call, { title: 'ls', output: '', metadata: { exit: 0 } });
      await hooks.event({ event: { type: 'session.idle', properties: { sessionID } } });
      await hooks.event({ event: { type: 'session.deleted', properties: { info: { id: sessionID } } } });
      const lines = logged.mock.calls.map((args) => String(args[0]));
      for (const what of ['session start', 'prompt', 'tool_post', 'turn_end', 'session_end']) {
        expect(lines.some((l) => l.startsWith(`vaultmesh: ${what} not recorded: cannot reach`))).toBe(true);
      }
    } finally {
      logged.mockRestore();
    }
  });
});

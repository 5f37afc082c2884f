/**
 * The Console engine end to end through its Claude Code adapter: a recorded session (the hook
 * payloads of test/fixtures/claude-code, in Claude Code's documented format) replayed through
 * `vm console hook`, one process per event as Claude Code runs it, against a real node. Then the
 * approval gate (held, approved, rejected, timed out, bound to its call), the contract's
 * constraints, a killed session, the audit's gaps, malformed payloads and an unreachable node,
 * the HTTP routes' refusals and twenty hooks at once.
 */
import { execFileSync, execSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import canonicalize from 'canonicalize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blake3Tagged } from '../../src/core/hash.js';
import {
  closedPort,
  loadRecordedSession,
  until,
  type ConsoleNode,
  type ConsoleReceipt,
  type FixtureEvent,
  type HookResult,
  type Payload,
  startConsoleNode,
} from '../helpers/console.js';
import { assertBuilt, jsonError } from '../helpers/vm.js';
import type { PendingAction, SessionState } from '../../src/core/console/session.js';
import type { SessionAudit } from '../../src/engines/console/sessions.js';

assertBuilt();

/** Node A: calls that need a person wait up to 30 s; `npm publish` needs one too. */
const CONFIG_A = `
[console.constraints]
require_approval_for = ["git_push", "file_delete", "Bash(npm publish:*)"]
approval_timeout_seconds = 30
`;
/** Node B: a short approval timeout and a one-file contract. */
const CONFIG_B = `
[console.constraints]
max_files_modified = 1
approval_timeout_seconds = 2
`;

const AGENT_DID = 'did:vm:agent:test';

const sha256 = (data: string | Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const jcsHash = (value: unknown): string => sha256(canonicalize(value) ?? 'null');
const fileSha = (path: string): string => sha256(readFileSync(path));

const GIT_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test Agent',
  GIT_AUTHOR_EMAIL: 'agent@example.test',
  GIT_COMMITTER_NAME: 'Test Agent',
  GIT_COMMITTER_EMAIL: 'agent@example.test',
  GIT_AUTHOR_DATE: '2026-01-02T03:04:05Z',
  GIT_COMMITTER_DATE: '2026-01-02T03:04:05Z',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
};
const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

interface DenyOutput {
  hookSpecificOutput: { hookEventName: string; permissionDecision: string; permissionDecisionReason: string };
}

/** The deny decision a hook printed (Claude Code's documented PreToolUse output), checked for shape. */
function denyOf(result: HookResult): string {
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).toBe('');
  expect(result.stdout.endsWith('\n')).toBe(true);
  const parsed = JSON.parse(result.stdout) as DenyOutput;
  expect(Object.keys(parsed)).toEqual(['hookSpecificOutput']);
  expect(parsed.hookSpecificOutput).toEqual({
    hookEventName: 'PreToolUse',
    permissionDecision: 'deny',
    permissionDecisionReason: expect.any(String),
  });
  return parsed.hookSpecificOutput.permissionDecisionReason;
}

const ALLOWED: HookResult = { code: 0, stdout: '', stderr: '' };

/** Common fields of every Claude Code hook payload. */
function common(session: string, event: string, cwd = '/work/project'): Record<string, unknown> {
  return {
    session_id: session,
    transcript_path: `/home/dev/.claude/projects/-work-project/${session}.jsonl`,
    cwd,
    permission_mode: 'default',
    hook_event_name: event,
  };
}

const sessionStart = (session: string, cwd?: string) => ({
  ...common(session, 'SessionStart', cwd),
  source: 'startup',
  model: 'claude-sonnet-4-5-20250929',
});
const sessionEnd = (session: string) => ({ ...common(session, 'SessionEnd'), reason: 'other' });

function bash(
  session: string,
  event: 'PreToolUse' | 'PostToolUse' | 'PostToolUseFailure',
  toolUseId: string,
  command: string,
): Record<string, unknown> {
  return {
    ...common(session, event),
    tool_name: 'Bash',
    tool_input: { command, description: 'a shell command' },
    tool_use_id: toolUseId,
    ...(event === 'PostToolUse'
      ? { tool_response: { stdout: 'ok\n', stderr: '', interrupted: false, isImage: false } }
      : {}),
    ...(event === 'PostToolUseFailure' ? { error: 'Exit code 1\nfailed', is_interrupt: false } : {}),
  };
}

function write(
  session: string,
  event: 'PreToolUse' | 'PostToolUse',
  toolUseId: string,
  cwd: string,
  file: string,
  content: string,
): Record<string, unknown> {
  return {
    ...common(session, event, cwd),
    tool_name: 'Write',
    tool_input: { file_path: join(cwd, file), content },
    tool_use_id: toolUseId,
    ...(event === 'PostToolUse'
      ? {
          tool_response: {
            type: 'create',
            filePath: join(cwd, file),
            content,
            structuredPatch: [],
          },
        }
      : {}),
  };
}

type Pending = PendingAction & { session_id: string };

/** How many numbers the hooks of a session claimed: one 16-hex-digit record per line. */
function claims(seqFile: string): number {
  const lines = readFileSync(seqFile, 'utf8').split('\n');
  expect(lines.pop()).toBe('');
  for (const line of lines) expect(line).toMatch(/^[0-9a-f]{16}$/);
  return lines.length;
}

/** Waits until `vm console approvals pending` lists a call of this session that `match` accepts. */
function pendingCall(node: ConsoleNode, session: string, match: (p: Pending) => boolean = () => true) {
  return until(
    `a call of ${session} waiting for approval`,
    async () =>
      (await node.vmJson<Pending[]>(['console', 'approvals', 'pending'])).find(
        (p) => p.session_id === session && match(p),
      ),
    20_000,
    100,
  );
}

const showSession = (node: ConsoleNode, id: string) =>
  node.vmJson<SessionState>(['console', 'session', 'show', id]);

let a: ConsoleNode;
let b: ConsoleNode;

beforeAll(async () => {
  [a, b] = await Promise.all([startConsoleNode('hook-a', CONFIG_A), startConsoleNode('hook-b', CONFIG_B)]);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('a recorded Claude Code session replayed through vm console hook', () => {
  const session = randomUUID();
  let project: string;
  let events: FixtureEvent[];
  const results: HookResult[] = [];
  /** File hashes as the tools left them, read from the disk. */
  const hashes: Record<string, string> = {};
  let commit: string;

  const byId = (id: string) => events.find((e) => e.payload.tool_use_id === id)!.payload;
  const inputOf = (file: string) =>
    events.find((e) => e.file === file)!.payload.tool_input as Record<string, unknown>;

  /** What the tool did between its PreToolUse and its PostToolUse, done for real in the project. */
  function perform(payload: Record<string, unknown>): void {
    const input = payload.tool_input as Record<string, unknown>;
    switch (payload.tool_name) {
      case 'Write': {
        const path = String(input.file_path);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, String(input.content));
        break;
      }
      case 'Edit':
      case 'MultiEdit': {
        const path = String(input.file_path);
        let text = readFileSync(path, 'utf8');
        const edits = (input.edits as Array<Record<string, string>> | undefined) ?? [
          input as Record<string, string>,
        ];
        for (const edit of edits) {
          expect(text).toContain(edit.old_string);
          text = text.replace(edit.old_string!, edit.new_string!);
        }
        writeFileSync(path, text);
        break;
      }
      case 'Bash':
        if (String(input.command).startsWith('git ')) {
          execSync(String(input.command), { cwd: project, env: GIT_ENV, stdio: 'ignore', shell: '/bin/sh' });
        }
        break;
      default:
        break;
    }
  }

  beforeAll(async () => {
    project = join(a.root, 'project');
    mkdirSync(project);
    git(project, 'init', '--quiet', '--initial-branch=main');
    writeFileSync(join(project, 'README.md'), '# demo\n\nSay hello.\n');
    git(project, 'add', 'README.md');
    git(project, 'commit', '--quiet', '-m', 'Initial commit');
    hashes.readmeBefore = fileSha(join(project, 'README.md'));
    const transcript = `/home/dev/.claude/projects/-demo/${session}.jsonl`;
    events = loadRecordedSession({
      SESSION: session,
      CWD: project,
      TRANSCRIPT: transcript,
      TRANSCRIPT_DIR: dirname(transcript),
    });
    for (const { file, payload } of events) {
      if (payload.hook_event_name === 'PostToolUse' || payload.hook_event_name === 'PostToolUseFailure') {
        perform(payload);
      }
      results.push(await a.hook(payload));
      if (file === '06-post-write.json') hashes.created = fileSha(join(project, 'src/greet.ts'));
      if (file === '08-post-edit.json') hashes.edited = fileSha(join(project, 'src/greet.ts'));
      if (file === '10-post-multiedit.json') hashes.readmeAfter = fileSha(join(project, 'README.md'));
    }
    commit = git(project, 'rev-parse', 'HEAD').trim();
  });

  it('every hook exits 0 and prints nothing (nothing is denied)', () => {
    expect(events.map((e) => e.file)).toHaveLength(19);
    for (const [i, result] of results.entries()) expect(result, events[i]!.file).toEqual(ALLOWED);
  });

  it('becomes exactly the receipts the events stand for, genesis first', async () => {
    const all = a.receipts();
    expect(all[0]).toMatchObject({ seq: 0, type: 'console_genesis', scroll: 'console' });
    expect(all[0]!.session_id).toBeUndefined();
    const mine = a.sessionReceipts(session);
    expect(mine.map((r) => r.type)).toEqual([
      'console_session_start',
      'console_prompt',
      'console_tool_call', // pre: npm test
      'console_command',
      'console_tool_call', // pre: Write
      'console_file_edit',
      'console_tool_call', // pre: Edit
      'console_file_edit',
      'console_tool_call', // pre: MultiEdit
      'console_file_edit',
      'console_tool_call', // pre: npm run lint
      'console_command', // its failure
      'console_tool_call', // pre: Task
      'console_turn_end', // SubagentStop
      'console_agent_spawn',
      'console_tool_call', // pre: git commit
      'console_command',
      'console_git_commit',
      'console_turn_end', // Stop
      'console_session_end',
    ]);
    expect(mine.map((r) => r.seq)).toEqual(mine.map((_, i) => i + 1));
    // The CLI reads back the same receipts.
    const listed = await a.vmJson<ConsoleReceipt[]>(['receipts', 'console', '--limit', '1000']);
    expect(listed).toEqual(all);
  });

  it('records each receipt with the exact body the event implies', () => {
    const mine = a.sessionReceipts(session);
    /** Every event's receipts carry the hook's clock and its event count (one per fixture file). */
    const meta = (agentSeq: number) => ({ observed_at: expect.any(String), agent_seq: agentSeq });
    const prompt = String(events[1]!.payload.prompt);
    const npmTest = byId('toolu_01A1npmtest0000000000001');
    const writePost = events.find((e) => e.file === '06-post-write.json')!.payload;
    const taskPost = events.find((e) => e.file === '15-post-task.json')!.payload;
    const lint = events.find((e) => e.file === '12-failure-bash-lint.json')!.payload;
    const commitCommand = 'git add -A && git commit -m "Add greet() helper"';
    const greet = join(project, 'src/greet.ts');
    const readme = join(project, 'README.md');
    const pre = (fields: Record<string, unknown>) => ({
      result_hash: null,
      phase: 'pre',
      gate: 'none',
      ...fields,
    });

    expect(mine[0]!.body).toEqual({
      agent_type: 'claude-code',
      model_id: 'claude-sonnet-4-5-20250929',
      caller: AGENT_DID,
      project_path: project,
      source: 'startup',
      contract: {
        contract_type: 'console_session',
        session_id: session,
        agent_type: 'claude-code',
        model_id: 'claude-sonnet-4-5-20250929',
        caller: AGENT_DID,
        project_path: project,
        capabilities_requested: ['file_read', 'file_write', 'bash_execute', 'git_commit', 'mcp_call'],
        constraints: {
          require_approval_for: ['git_push', 'file_delete', 'Bash(npm publish:*)'],
          sandbox_mode: false,
          approval_timeout_seconds: 30,
        },
        created_at: expect.any(String),
      },
      ...meta(1),
    });
    expect(mine[0]!.tags).toEqual(['console', 'claude-code']);
    expect(mine[1]!.body).toEqual({ prompt_hash: sha256(prompt), prompt_chars: prompt.length, ...meta(2) });
    expect(mine[2]!.body).toEqual(
      pre({
        tool_name: 'Bash',
        params_hash: jcsHash(npmTest.tool_input),
        capability_used: 'bash_execute',
        tool_use_id: 'toolu_01A1npmtest0000000000001',
        tool_kind: 'bash',
        action_types: ['bash_execute'],
        command: 'npm',
        args_hash: blake3Tagged('npm test'),
        ...meta(3),
      }),
    );
    expect(mine[3]!.body).toEqual({
      command: 'npm',
      args_hash: blake3Tagged('npm test'),
      exit_code: 0,
      duration_ms: expect.any(Number),
      result_hash: jcsHash(events[3]!.payload.tool_response),
      tool_use_id: 'toolu_01A1npmtest0000000000001',
      params_hash: jcsHash(npmTest.tool_input),
      ...meta(4),
    });
    expect(mine[3]!.body.duration_ms).toBeGreaterThanOrEqual(0);
    expect(mine[4]!.body).toEqual(
      pre({
        tool_name: 'Write',
        params_hash: jcsHash(inputOf('05-pre-write.json')),
        capability_used: 'file_write',
        tool_use_id: 'toolu_01A2write00000000000002',
        tool_kind: 'file_edit',
        action_types: ['file_write'],
        file_path: greet,
        file_hash: null,
        ...meta(5),
      }),
    );
    expect(mine[5]!.body).toEqual({
      file_path: greet,
      old_hash: null,
      new_hash: hashes.created,
      edit_type: 'create',
      lines_changed: 3,
      tool_name: 'Write',
      params_hash: jcsHash(writePost.tool_input),
      tool_use_id: 'toolu_01A2write00000000000002',
      ...meta(6),
    });
    expect(hashes.created).toBe(sha256(String(inputOf('05-pre-write.json').content)));
    expect(mine[6]!.body).toMatchObject({
      phase: 'pre',
      tool_name: 'Edit',
      file_hash: hashes.created,
      ...meta(7),
    });
    expect(mine[7]!.body).toEqual({
      file_path: greet,
      old_hash: hashes.created,
      new_hash: hashes.edited,
      edit_type: 'modify',
      lines_changed: 2,
      tool_name: 'Edit',
      params_hash: jcsHash(inputOf('07-pre-edit.json')),
      tool_use_id: 'toolu_01A3edit000000000000003',
      ...meta(8),
    });
    expect(hashes.edited).toBe(fileSha(greet)); // the file as the session left it
    expect(mine[8]!.body).toMatchObject({
      phase: 'pre',
      tool_name: 'MultiEdit',
      file_path: readme,
      file_hash: hashes.readmeBefore,
      ...meta(9),
    });
    expect(mine[9]!.body).toEqual({
      file_path: readme,
      old_hash: hashes.readmeBefore,
      new_hash: hashes.readmeAfter,
      edit_type: 'modify',
      lines_changed: 4,
      tool_name: 'MultiEdit',
      params_hash: jcsHash(inputOf('09-pre-multiedit.json')),
      tool_use_id: 'toolu_01A4multiedit0000000004',
      ...meta(10),
    });
    expect(readFileSync(readme, 'utf8')).toBe('# greet-demo\n\nSay hello with greet().\n');
    expect(mine[10]!.body).toMatchObject({
      phase: 'pre',
      command: 'npm',
      args_hash: blake3Tagged('npm run lint'),
    });
    expect(mine[11]!.body).toEqual({
      command: 'npm',
      args_hash: blake3Tagged('npm run lint'),
      exit_code: 2,
      duration_ms: expect.any(Number),
      result_hash: sha256(String(lint.error)),
      tool_use_id: 'toolu_01A5lint000000000000005',
      params_hash: jcsHash(lint.tool_input),
      failed: true,
      ...meta(12),
    });
    const taskPrompt = String(inputOf('13-pre-task.json').prompt);
    expect(mine[12]!.body).toEqual(
      pre({
        tool_name: 'Task',
        params_hash: jcsHash(inputOf('13-pre-task.json')),
        capability_used: 'console_spawn',
        tool_use_id: 'toolu_01A6task000000000000006',
        tool_kind: 'agent',
        action_types: ['agent_spawn'],
        task_hash: sha256(taskPrompt),
        ...meta(13),
      }),
    );
    expect(mine[13]!.body).toEqual({
      subagent: true,
      message_hash: null,
      agent_id: 'a1b2c3d4',
      agent_type: 'code-reviewer',
      ...meta(14),
    });
    expect(mine[14]!.body).toEqual({
      parent_session_id: session,
      child_session_id: `${session}:toolu_01A6task000000000000006`,
      agent_type: 'code-reviewer',
      task_hash: sha256(taskPrompt),
      result_hash: jcsHash(taskPost.tool_response),
      tool_use_id: 'toolu_01A6task000000000000006',
      params_hash: jcsHash(inputOf('13-pre-task.json')),
      ...meta(15),
    });
    expect(mine[15]!.body).toEqual(
      pre({
        tool_name: 'Bash',
        params_hash: jcsHash(inputOf('16-pre-bash-git-commit.json')),
        capability_used: 'git_commit',
        tool_use_id: 'toolu_01A7commit00000000000007',
        tool_kind: 'bash',
        action_types: ['bash_execute', 'git_commit'],
        command: 'git',
        args_hash: blake3Tagged(commitCommand),
        ...meta(16),
      }),
    );
    expect(mine[16]!.body).toMatchObject({ command: 'git', exit_code: 0, ...meta(17) });
    expect(mine[17]!.body).toEqual({
      commit_hash: commit,
      files_changed: 2,
      message_hash: sha256('Add greet() helper'),
      signed: false,
      tool_use_id: 'toolu_01A7commit00000000000007',
      ...meta(17),
    });
    expect(mine[17]!.tags).toEqual(['console', 'claude-code', 'git']);
    expect(mine[18]!.body).toEqual({
      subagent: false,
      message_hash: sha256(String(events[17]!.payload.last_assistant_message)),
      ...meta(18),
    });
    expect(mine[19]!.body).toEqual({
      duration_ms: expect.any(Number),
      commands_executed: 3,
      files_modified: 2,
      exit_reason: 'prompt_input_exit',
      ...meta(19),
    });
  });

  it('keeps content out of the scroll: the prompt and command lines cross only as hashes', () => {
    const text = a.scrollText();
    const prompt = String(events[1]!.payload.prompt);
    expect(text).not.toContain(prompt);
    expect(text).not.toContain('plum-kestrel-4471');
    expect(text).not.toContain('npm run lint');
    expect(text).not.toContain('Add greet() helper');
    expect(text).not.toContain('Review src/greet.ts');
    expect(text).not.toContain("return 'Hello");
  });

  it('derives the session state from the receipts', async () => {
    const state = await showSession(a, session);
    expect(state).toMatchObject({
      session_id: session,
      status: 'ended',
      exit_reason: 'prompt_input_exit',
      agent_type: 'claude-code',
      model_id: 'claude-sonnet-4-5-20250929',
      caller: AGENT_DID,
      project_path: project,
      commands_executed: 3,
      files_read: 0,
      files_modified: 2,
      tool_calls: 7,
      prompts: 1,
      approvals_requested: 0,
      approvals_granted: 0,
      approvals_denied: 0,
      subagents: 1,
      git_commits: [commit],
      pending_approvals: [],
      flags: [],
      receipts: 20,
    });
    expect(state.current_task).toBe(
      `prompt ${sha256(String(events[1]!.payload.prompt)).slice(0, 19)}… (${String(events[1]!.payload.prompt).length} chars)`,
    );
  });

  it('passes the audit: no gaps, no flags (exit 0)', async () => {
    const result = await a.vm(['--format', 'json', 'console', 'audit']);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as SessionAudit[];
    expect(report).toEqual([
      expect.objectContaining({ session_id: session, status: 'ended', receipts: 20, flags: [], gaps: [] }),
    ]);
  });
});

describe('the audit of a session with holes in it', () => {
  it('names post_without_pre, no_session_end and agent_seq_gap, and exits 4', async () => {
    const session = randomUUID();
    const dead = `http://127.0.0.1:${await closedPort()}`;
    expect(await a.hook(sessionStart(session))).toEqual(ALLOWED); // agent event 1
    // A call whose PreToolUse never reached the ledger: only its outcome arrives (event 2).
    expect(await a.hook(bash(session, 'PostToolUse', 'toolu_gap_1', 'ls'))).toEqual(ALLOWED);
    // Event 3 is counted, then lost: the node cannot be reached.
    const lost = await a.hook(bash(session, 'PostToolUse', 'toolu_gap_2', 'ls -la'), {
      env: { VAULTMESH_URL: dead },
    });
    expect(lost.code).toBe(1);
    expect(lost.stdout).toBe('');
    expect(lost.stderr).toContain('event not recorded');
    // Event 4 arrives; SessionEnd never does.
    expect(await a.hook({ ...common(session, 'Stop'), stop_hook_active: false })).toEqual(ALLOWED);
    expect(claims(a.seqFile(session))).toBe(4);
    expect(a.sessionReceipts(session).map((r) => r.body.agent_seq)).toEqual([1, 2, 4]);

    const result = await a.vm(['--format', 'json', 'console', 'audit']);
    expect(result.status, result.stderr).toBe(4);
    const report = JSON.parse(result.stdout) as SessionAudit[];
    const mine = report.find((s) => s.session_id === session)!;
    expect(mine.gaps.map((g) => g.kind)).toEqual(['post_without_pre', 'no_session_end', 'agent_seq_gap']);
    expect(mine.gaps[0]!.detail).toContain('toolu_gap_1');
    expect(mine.gaps[2]!.detail).toBe('agent event 3 never arrived');
    expect(mine.flags).toEqual([]);
    // The human report says the same.
    const human = await a.vm(['console', 'audit']);
    expect(human.status).toBe(4);
    expect(human.stdout).toContain('GAP  post_without_pre');
    expect(human.stdout).toContain('GAP  no_session_end');
    expect(human.stdout).toContain('GAP  agent_seq_gap: agent event 3 never arrived');
  });
});

describe('the approval gate', () => {
  const session = randomUUID();
  let approvedId: string;
  const push = 'git push origin main';

  beforeAll(async () => {
    expect(await a.hook(sessionStart(session))).toEqual(ALLOWED);
  });

  it('holds a git push until a person approves it; then the call runs with no deny output', async () => {
    const payload = bash(session, 'PreToolUse', 'toolu_push_1', push);
    const held = a.startHook(payload);
    const pending = await pendingCall(a, session);
    expect(pending).toEqual({
      action_id: expect.stringMatching(/^act-[0-9a-f]{16}$/),
      session_id: session,
      seq: expect.any(Number),
      tool_name: 'Bash',
      action_type: 'git_push',
      rule: 'git_push',
      args_hash: jcsHash(payload.tool_input),
      policy_hash: expect.stringMatching(/^blake3:/),
      requested_at: expect.any(String),
      expires_at: expect.any(String),
    });
    expect(held.exited()).toBe(false); // still waiting for a person
    approvedId = pending.action_id;
    const approve = await a.vm(['console', 'approve', approvedId, '--reason', 'ok']);
    expect(approve.status, approve.stderr).toBe(0);
    expect(approve.stdout).toContain(`approved ${approvedId}`);
    expect(await held.result).toEqual(ALLOWED);
    const approval = a
      .sessionReceipts(session)
      .find((r) => r.type === 'console_approval' && r.body.action_id === approvedId)!;
    expect(approval.body).toEqual({
      action_type: 'git_push',
      approved: true,
      approver: expect.stringMatching(/^did:vm:human:/),
      reason: 'ok',
      decided_by: 'person',
      action_id: approvedId,
      tool_name: 'Bash',
      args_hash: jcsHash(payload.tool_input),
      policy_hash: pending.policy_hash,
    });
    expect(await a.hook(bash(session, 'PostToolUse', 'toolu_push_1', push))).toEqual(ALLOWED);
  });

  it('denies a rejected call with the rejection in the reason; a second decision fails (ACTION_DECIDED)', async () => {
    const held = a.startHook(bash(session, 'PreToolUse', 'toolu_push_2', 'git push --force origin main'));
    const pending = await pendingCall(a, session);
    expect(pending.action_id).not.toBe(approvedId);
    expect(held.exited()).toBe(false);
    const reject = await a.vm(['console', 'reject', pending.action_id, '--reason', 'no force-push to main']);
    expect(reject.status, reject.stderr).toBe(0);
    const reason = denyOf(await held.result);
    expect(reason).toMatch(/^denied by did:vm:human:\S+ \(person\): no force-push to main$/);

    const again = await a.vm([
      '--format',
      'json',
      'console',
      'approve',
      pending.action_id,
      '--reason',
      'changed my mind',
    ]);
    expect(again.status).toBe(2);
    expect(jsonError(again).code).toBe('ACTION_DECIDED');
    const first = await a.vm(['--format', 'json', 'console', 'approve', approvedId, '--reason', 'twice']);
    expect(first.status).toBe(2);
    expect(jsonError(first).code).toBe('ACTION_DECIDED');
    const unknown = await a.vm([
      '--format',
      'json',
      'console',
      'approve',
      'act-0000000000000000',
      '--reason',
      'x',
    ]);
    expect(unknown.status).toBe(3);
    expect(jsonError(unknown).code).toBe('UNKNOWN_ACTION');
    const decisions = a.sessionReceipts(session).filter((r) => r.type === 'console_approval');
    expect(decisions.map((r) => [r.body.action_id, r.body.approved, r.body.decided_by])).toEqual([
      [approvedId, true, 'person'],
      [pending.action_id, false, 'person'],
    ]);
  });

  it('does not let an approval through for another call with the same arguments', async () => {
    const held = a.startHook(bash(session, 'PreToolUse', 'toolu_push_3', push));
    const pending = await pendingCall(a, session);
    expect(pending.action_id).not.toBe(approvedId);
    expect(pending.args_hash).toBe(jcsHash({ command: push, description: 'a shell command' }));
    expect(held.exited()).toBe(false);
    expect(
      (await a.vm(['console', 'reject', pending.action_id, '--reason', 'one push is enough'])).status,
    ).toBe(0);
    expect(denyOf(await held.result)).toContain('one push is enough');
  });

  it('holds the same tool_use_id with other arguments as a call of its own', async () => {
    const other = bash(session, 'PreToolUse', 'toolu_push_1', 'git push origin main:release');
    const held = a.startHook(other);
    const pending = await pendingCall(a, session, (p) => p.args_hash === jcsHash(other.tool_input));
    // The approval of toolu_push_1's first arguments is not this call's: it waits for its own decision.
    expect(pending.action_id).not.toBe(approvedId);
    expect(held.exited()).toBe(false);
    expect((await a.vm(['console', 'reject', pending.action_id, '--reason', 'not this one'])).status).toBe(0);
    expect(denyOf(await held.result)).toContain('not this one');
  });

  it('holds rm -rf (file_delete) and a configured Bash(npm publish:*) pattern', async () => {
    const rm = a.startHook(bash(session, 'PreToolUse', 'toolu_rm_1', 'rm -rf build'));
    const publish = a.startHook(
      bash(session, 'PreToolUse', 'toolu_publish_1', 'npm publish --access public'),
    );
    const rmPending = await pendingCall(a, session, (p) => p.rule === 'file_delete');
    const publishPending = await pendingCall(a, session, (p) => p.rule === 'Bash(npm publish:*)');
    expect(rmPending).toMatchObject({ action_type: 'file_delete', tool_name: 'Bash' });
    expect(publishPending).toMatchObject({ action_type: 'Bash(npm publish:*)', tool_name: 'Bash' });
    expect(rm.exited()).toBe(false);
    expect(publish.exited()).toBe(false);
    const [r1, r2] = await Promise.all([
      a.vm(['console', 'approve', rmPending.action_id, '--reason', 'build output only']),
      a.vm(['console', 'reject', publishPending.action_id, '--reason', 'not today']),
    ]);
    expect(r1.status, r1.stderr).toBe(0);
    expect(r2.status, r2.stderr).toBe(0);
    expect(await rm.result).toEqual(ALLOWED);
    expect(denyOf(await publish.result)).toContain('not today');
  });

  it('denies a call on timeout when nobody answers, recorded as decided_by "timeout"', async () => {
    const timed = randomUUID();
    expect(await b.hook(sessionStart(timed))).toEqual(ALLOWED);
    const started = Date.now();
    const reason = denyOf(await b.hook(bash(timed, 'PreToolUse', 'toolu_push_t', push)));
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(reason).toBe(`denied by ${b.did} (timeout): no decision before the approval timeout`);
    const approval = b.sessionReceipts(timed).find((r) => r.type === 'console_approval')!;
    expect(approval.body).toMatchObject({
      approved: false,
      approver: b.did,
      decided_by: 'timeout',
      action_type: 'git_push',
      reason: 'no decision before the approval timeout',
    });
    const late = await b.vm([
      '--format',
      'json',
      'console',
      'approve',
      String(approval.body.action_id),
      '--reason',
      'late',
    ]);
    expect(late.status).toBe(2);
    expect(jsonError(late).code).toBe('ACTION_DECIDED');
  });
});

describe('constraints of the contract', () => {
  const session = randomUUID();
  let cwd: string;
  let reason: string;

  beforeAll(async () => {
    cwd = join(b.root, 'project-m');
    mkdirSync(cwd);
    expect(await b.hook(sessionStart(session, cwd))).toEqual(ALLOWED);
    expect(await b.hook(write(session, 'PreToolUse', 'toolu_w1', cwd, 'one.txt', 'one\n'))).toEqual(ALLOWED);
    writeFileSync(join(cwd, 'one.txt'), 'one\n');
    expect(await b.hook(write(session, 'PostToolUse', 'toolu_w1', cwd, 'one.txt', 'one\n'))).toEqual(ALLOWED);
    // Writing the same file again is no new file.
    expect(await b.hook(write(session, 'PreToolUse', 'toolu_w1b', cwd, 'one.txt', 'uno\n'))).toEqual(ALLOWED);
    writeFileSync(join(cwd, 'one.txt'), 'uno\n');
    expect(await b.hook(write(session, 'PostToolUse', 'toolu_w1b', cwd, 'one.txt', 'uno\n'))).toEqual(
      ALLOWED,
    );
    reason = denyOf(await b.hook(write(session, 'PreToolUse', 'toolu_w2', cwd, 'two.txt', 'two\n')));
  });

  it('max_files_modified = 1: the second distinct file is denied by policy', () => {
    expect(reason).toBe(
      'VaultMesh policy (max_files_modified): the session has modified 1 files; its contract allows 1',
    );
    const mine = b.sessionReceipts(session);
    const pre = mine.find((r) => r.type === 'console_tool_call' && r.body.tool_use_id === 'toolu_w2')!;
    expect(pre.body).toMatchObject({ phase: 'pre', gate: 'policy', rule: 'max_files_modified' });
    const approval = mine.find((r) => r.type === 'console_approval')!;
    expect(approval.body).toMatchObject({
      action_id: pre.body.action_id,
      approved: false,
      decided_by: 'policy',
      action_type: 'file_write',
      reason: 'max_files_modified: the session has modified 1 files; its contract allows 1',
    });
    expect(approval.seq).toBe(pre.seq + 1);
  });

  it('flags a denied call that ran anyway (the hook failed open): executed_after_denial', async () => {
    writeFileSync(join(cwd, 'two.txt'), 'two\n');
    expect(await b.hook(write(session, 'PostToolUse', 'toolu_w2', cwd, 'two.txt', 'two\n'))).toEqual(ALLOWED);
    const state = await showSession(b, session);
    expect(state.files_modified).toBe(2);
    expect(state.flags.map((f) => f.rule)).toContain('max_files_modified');
    expect(state.flags.map((f) => f.rule)).toContain('executed_after_denial');
  });

  it('refuses a shell command that decides approvals (self_approval)', async () => {
    const s = randomUUID();
    expect(await a.hook(sessionStart(s))).toEqual(ALLOWED);
    const approve = denyOf(
      await a.hook(
        bash(s, 'PreToolUse', 'toolu_self_1', 'vm console approve act-0123456789abcdef --reason ok'),
      ),
    );
    expect(approve).toBe(
      'VaultMesh policy (self_approval): an agent may not approve or reject its own actions',
    );
    const reject = denyOf(
      await a.hook(
        bash(
          s,
          'PreToolUse',
          'toolu_self_2',
          'cd /tmp && node bin/vm.js --data d console reject act-0123456789abcdef --reason x',
        ),
      ),
    );
    expect(reject).toContain('self_approval');
    const decisions = a.sessionReceipts(s).filter((r) => r.type === 'console_approval');
    expect(decisions.map((r) => [r.body.approved, r.body.decided_by])).toEqual([
      [false, 'policy'],
      [false, 'policy'],
    ]);
    expect(await a.hook(sessionEnd(s))).toEqual(ALLOWED);
  });
});

describe('a killed session', () => {
  it('refuses every later call (session_closed)', async () => {
    const session = randomUUID();
    expect(await a.hook(sessionStart(session))).toEqual(ALLOWED);
    const kill = await a.vm(['console', 'session', 'kill', session, '--reason', 'x']);
    expect(kill.status, kill.stderr).toBe(0);
    const reason = denyOf(await a.hook(bash(session, 'PreToolUse', 'toolu_after_kill', 'ls')));
    expect(reason).toBe('VaultMesh policy (session_closed): the session is killed');
    const state = await showSession(a, session);
    expect(state).toMatchObject({ status: 'killed', exit_reason: 'killed: x' });
    const again = await a.vm([
      '--format',
      'json',
      'console',
      'session',
      'kill',
      session,
      '--reason',
      'twice',
    ]);
    expect(again.status).toBe(2);
    expect(jsonError(again).code).toBe('ACTION_DECIDED');
  });
});

describe('malformed payloads and an unreachable node', () => {
  const session = randomUUID();

  it('refuses what it cannot read with exit 1 and the field on stderr, and appends nothing', async () => {
    const before = a.scrollText();
    const cases: Array<[Payload, string]> = [
      ['{"session_id": "x", not json', 'the hook payload is not JSON'],
      ['', 'the hook payload is not JSON'],
      ['[1,2]', 'the hook payload must be a JSON object'],
      [{ session_id: session, cwd: '/tmp' }, 'hook_event_name is missing'],
      [{ ...common(session, 'Notification'), message: 'hi' }, 'hook_event_name "Notification" is not one of'],
      [
        { ...common(session, 'PreToolUse'), tool_input: { command: 'ls' }, tool_use_id: 't' },
        'tool_name is missing',
      ],
      [{ ...common(session, 'PostToolUse'), tool_name: 'Bash', tool_use_id: 't' }, 'tool_input is missing'],
      [{ ...common(session, 'UserPromptSubmit') }, 'prompt is missing'],
      [{ ...common('bad id!', 'SessionStart') }, 'session_id "bad id!" is not a valid session id'],
      [{ ...common(session, 'SessionStart'), session_id: 42 }, 'session_id must be a string'],
    ];
    for (const [payload, message] of cases) {
      const result = await a.hook(payload);
      expect(result.code, JSON.stringify(payload)).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^vaultmesh hook: /);
      expect(result.stderr).toContain(message);
    }
    const badOption = await a.hook(sessionStart(session), { args: ['--wait', 'soon'] });
    expect(badOption).toEqual({
      code: 1,
      stdout: '',
      stderr: 'vaultmesh hook: --wait must be whole seconds from 1 to 3600\n',
    });
    expect(a.scrollText()).toBe(before);
  });

  it('unreachable node: PostToolUse exits 1 with stderr; PreToolUse is denied unless --fail-open', async () => {
    const env = { VAULTMESH_URL: `http://127.0.0.1:${await closedPort()}` };
    const before = a.scrollText();
    const post = await a.hook(bash(session, 'PostToolUse', 'toolu_u1', 'ls'), { env });
    expect(post.code).toBe(1);
    expect(post.stdout).toBe('');
    expect(post.stderr).toMatch(
      /^vaultmesh hook: event not recorded: cannot reach the VaultMesh node at http:\/\/127\.0\.0\.1:\d+/,
    );
    const pre = await a.hook(bash(session, 'PreToolUse', 'toolu_u2', 'ls'), { env });
    expect(denyOf(pre)).toMatch(/^VaultMesh could not decide on this call \(cannot reach the VaultMesh node/);
    const open = await a.hook(bash(session, 'PreToolUse', 'toolu_u3', 'ls'), { env, args: ['--fail-open'] });
    expect(open.code).toBe(1);
    expect(open.stdout).toBe('');
    expect(open.stderr).toContain('event not recorded: cannot reach the VaultMesh node');
    expect(a.scrollText()).toBe(before);
  });

  it('a refused token: PostToolUse exits 1 naming the refusal; PreToolUse is denied', async () => {
    const env = { VAULTMESH_TOKEN: undefined };
    const post = await a.hook(bash(session, 'PostToolUse', 'toolu_t1', 'ls'), { env });
    expect(post.code).toBe(1);
    expect(post.stderr).toContain('the node refused the event (401 UNAUTHENTICATED)');
    expect(denyOf(await a.hook(bash(session, 'PreToolUse', 'toolu_t2', 'ls'), { env }))).toContain('401');
  });
});

describe('the HTTP routes refuse bad requests', () => {
  const post = (path: string, body: unknown, token?: string) =>
    fetch(`${a.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify(body),
    });
  const errorOf = async (res: Response) =>
    ((await res.json()) as { error: { code: string; message: string } }).error;
  const toolPre = {
    v: 1,
    agent: 'claude-code',
    session_id: 'bridge-1',
    observed_at: new Date().toISOString(),
    event: 'tool_pre',
    tool_use_id: 't1',
    tool_name: 'Bash',
    params_hash: 'sha256:nothex',
    subject: { command: 'ls' },
  };

  it('POST /v1/console/events: 400 naming the field; 401 without a token', async () => {
    const before = a.scrollText();
    const bad = await post('/v1/console/events', toolPre, a.token);
    expect(bad.status).toBe(400);
    const error = await errorOf(bad);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(/^body\.params_hash: /);
    const noTool: Record<string, unknown> = { ...toolPre, params_hash: sha256('x') };
    delete noTool.tool_name;
    const missing = await post('/v1/console/events', noTool, a.token);
    expect(missing.status).toBe(400);
    expect((await errorOf(missing)).message).toMatch(/^body\.tool_name: /);
    const extra = await post(
      '/v1/console/events',
      { ...toolPre, params_hash: sha256('x'), surprise: 1 },
      a.token,
    );
    expect(extra.status).toBe(400);
    expect((await errorOf(extra)).message).toContain('surprise');
    const anonymous = await post('/v1/console/events', { ...toolPre, params_hash: sha256('x') });
    expect(anonymous.status).toBe(401);
    expect((await errorOf(anonymous)).code).toBe('UNAUTHENTICATED');
    expect(a.scrollText()).toBe(before);
  });

  it('POST /v1/console/receipt (the seed bridge): 400 naming body.<field>, RESERVED_TYPE, 401', async () => {
    const before = a.scrollText();
    const missing = await post(
      '/v1/console/receipt',
      {
        type: 'console_command',
        session_id: 'bridge-2',
        payload: { command: 'ls', args_hash: sha256('ls'), duration_ms: 3 },
      },
      a.token,
    );
    expect(missing.status).toBe(400);
    const error = await errorOf(missing);
    expect(error.code).toBe('INVALID_BODY');
    expect(error.message).toMatch(/^body\.exit_code: /);
    const reserved = await post(
      '/v1/console/receipt',
      {
        type: 'console_approval',
        session_id: 'bridge-2',
        payload: { action_type: 'git_push', approved: true, approver: 'did:vm:agent:test', reason: 'self' },
      },
      a.token,
    );
    expect(reserved.status).toBe(400);
    expect((await errorOf(reserved)).code).toBe('RESERVED_TYPE');
    const anonymous = await post('/v1/console/receipt', {
      type: 'console_command',
      payload: { command: 'ls', args_hash: sha256('ls'), exit_code: 0, duration_ms: 3 },
    });
    expect(anonymous.status).toBe(401);
    expect(a.scrollText()).toBe(before);
  });
});

describe('twenty hooks at once', () => {
  const session = randomUUID();

  beforeAll(async () => {
    expect(await a.hook(sessionStart(session))).toEqual(ALLOWED);
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const id = `toolu_par_${String(i).padStart(2, '0')}`;
        const pre = await a.hook(bash(session, 'PreToolUse', id, `echo ${i}`));
        const done = await a.hook(bash(session, 'PostToolUse', id, `echo ${i}`));
        return [pre, done];
      }),
    );
    for (const pair of results) expect(pair).toEqual([ALLOWED, ALLOWED]);
    expect(await a.hook(sessionEnd(session))).toEqual(ALLOWED);
  });

  it('records every call of the session, and the scroll verifies', async () => {
    const mine = a.sessionReceipts(session);
    expect(mine).toHaveLength(42);
    expect(mine.filter((r) => r.type === 'console_tool_call' && r.body.phase === 'pre')).toHaveLength(20);
    expect(mine.filter((r) => r.type === 'console_command')).toHaveLength(20);
    expect(new Set(mine.map((r) => r.body.tool_use_id).filter(Boolean)).size).toBe(20);
    // Every outcome found its announcement: a duration, not null.
    for (const r of mine.filter((x) => x.type === 'console_command')) {
      expect(r.body.duration_ms).toEqual(expect.any(Number));
    }
    const state = await showSession(a, session);
    expect(state).toMatchObject({ status: 'ended', tool_calls: 20, commands_executed: 20, flags: [] });
    const verify = await a.vm(['verify', 'console']);
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    const deep = await a.vm(['verify', 'console', '--deep']);
    expect(deep.status, deep.stdout + deep.stderr).toBe(0);
  });

  it('gives each of the parallel hooks its own agent_seq, so the audit finds no gap', async () => {
    expect(claims(a.seqFile(session))).toBe(42);
    const seqs = a.sessionReceipts(session).map((r) => r.body.agent_seq as number);
    expect(seqs.sort((x, y) => x - y)).toEqual(Array.from({ length: 42 }, (_, i) => i + 1));
    const audit = JSON.parse((await a.vm(['--format', 'json', 'console', 'audit'])).stdout) as SessionAudit[];
    expect(audit.find((s) => s.session_id === session)!.gaps).toEqual([]);
  });
});

/**
 * `vm console spawn` and `vm console install-hooks` end to end. The agent is a stand-in for Claude
 * Code: a small Node script that reads `--session-id` and `--settings` from its argv as Claude Code
 * does, and runs the configured hook commands (through `sh -c`, the payload on stdin, with the
 * environment spawn gave it) for a short session. Spawn must record the contract first, point the
 * hooks at the node, and record the end of a session whose agent died without ending it.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blake3Tagged } from '../../src/core/hash.js';
import { hookEnv, startConsoleNode, type ConsoleNode } from '../helpers/console.js';
import { CLAUDE_CODE_EVENTS } from '../../src/core/console/claude-code.js';
import { assertBuilt, jsonError } from '../helpers/vm.js';

assertBuilt();

const HOOK_EVENTS = CLAUDE_CODE_EVENTS;

/**
 * The stand-in agent. FAKE_CLAUDE_MODE=complete runs a whole session; =crash starts one and exits 1
 * without SessionEnd. Every hook run is logged (JSON lines) to FAKE_CLAUDE_LOG.
 */
const FAKE_CLAUDE = `
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const option = (name) => {
  const i = argv.indexOf(name);
  return i < 0 ? undefined : argv[i + 1];
};
const sessionId = option('--session-id');
const settings = JSON.parse(option('--settings'));
const task = option('-p');
const log = (entry) => appendFileSync(process.env.FAKE_CLAUDE_LOG, JSON.stringify(entry) + '\\n');
log({
  kind: 'start',
  argv,
  cwd: process.cwd(),
  url: process.env.VAULTMESH_URL,
  token: process.env.VAULTMESH_TOKEN,
  session: process.env.VAULTMESH_SESSION_ID,
});

const common = {
  session_id: sessionId,
  transcript_path: '/home/dev/.claude/projects/fake/' + sessionId + '.jsonl',
  cwd: process.cwd(),
  permission_mode: 'default',
};

/** Runs the hooks configured for an event, as Claude Code does; returns their results. */
function fire(event, fields = {}) {
  const results = [];
  for (const entry of settings.hooks[event] ?? []) {
    const matcher = entry.matcher ?? '*';
    if (fields.tool_name !== undefined && matcher !== '*' && !new RegExp('^(' + matcher + ')$').test(fields.tool_name)) {
      continue;
    }
    for (const hook of entry.hooks) {
      const run = spawnSync('sh', ['-c', hook.command], {
        input: JSON.stringify({ ...common, hook_event_name: event, ...fields }),
        encoding: 'utf8',
        env: process.env,
        timeout: hook.timeout * 1000,
      });
      results.push({ code: run.status, stdout: run.stdout, stderr: run.stderr });
    }
  }
  log({ kind: 'hook', event, tool_use_id: fields.tool_use_id, results });
  return results;
}

const denied = (results) => results.some((r) => r.stdout.includes('"permissionDecision":"deny"'));

/** One tool call: PreToolUse, the tool (unless denied), PostToolUse. */
function call(id, tool_name, tool_input, run, tool_response) {
  const pre = fire('PreToolUse', { tool_name, tool_input, tool_use_id: id });
  if (denied(pre)) return false;
  run();
  fire('PostToolUse', { tool_name, tool_input, tool_use_id: id, tool_response });
  return true;
}

fire('SessionStart', { source: 'startup', model: 'claude-sonnet-4-5-20250929' });
if (process.env.FAKE_CLAUDE_MODE === 'crash') {
  process.stderr.write('fake claude: crashed\\n');
  process.exit(1);
}
fire('UserPromptSubmit', { prompt: task });
const shell = { stdout: 'ok\\n', stderr: '', interrupted: false, isImage: false };
call('toolu_fake_bash', 'Bash', { command: 'npm test', description: 'Run the tests' }, () => {}, shell);
call('toolu_fake_rm', 'Bash', { command: 'rm -rf build', description: 'Clean' }, () => {}, shell);
for (const n of [1, 2, 3, 4]) {
  const file = join(process.cwd(), 'src', 'file' + n + '.ts');
  const content = 'export const n = ' + n + ';\\n';
  call('toolu_fake_write_' + n, 'Write', { file_path: file, content }, () => {
    mkdirSync(join(process.cwd(), 'src'), { recursive: true });
    writeFileSync(file, content);
  }, { type: 'create', filePath: file, content, structuredPatch: [] });
}
fire('Stop', { stop_hook_active: false, last_assistant_message: 'Done.' });
fire('SessionEnd', { reason: 'other' });
process.stderr.write('fake claude: done\\n');
`;

interface LogEntry {
  kind: 'start' | 'hook';
  argv?: string[];
  cwd?: string;
  url?: string;
  token?: string;
  session?: string;
  event?: string;
  tool_use_id?: string;
  results?: Array<{ code: number | null; stdout: string; stderr: string }>;
}

interface SpawnResult {
  session_id: string;
  exit_code: number | null;
  end_seq: number | null;
}

let node: ConsoleNode;
let fake: string;

const readLog = (file: string): LogEntry[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as LogEntry);

beforeAll(async () => {
  node = await startConsoleNode('spawn');
  const bin = join(node.root, 'bin');
  mkdirSync(bin);
  fake = join(bin, 'fake-claude');
  writeFileSync(fake, `#!${process.execPath}\n${FAKE_CLAUDE}`);
  chmodSync(fake, 0o755);
});

afterAll(async () => {
  await node?.stop();
});

describe('vm console spawn claude', () => {
  const task = 'Fix the flaky auth test';
  let project: string;
  let log: string;
  let result: SpawnResult;
  let status: number;
  let stderr: string;

  beforeAll(async () => {
    project = join(node.root, 'project');
    mkdirSync(project);
    log = join(node.root, 'fake-complete.log');
    const run = await node.vm(
      [
        '--format',
        'json',
        'console',
        'spawn',
        'claude',
        '--task',
        task,
        '--project',
        project,
        '--bin',
        fake,
        '--node',
        node.url,
        '--max-files',
        '3',
        '--require-approval',
        'git_push',
      ],
      { FAKE_CLAUDE_LOG: log, VAULTMESH_STATE_DIR: node.stateDir },
    );
    status = run.status;
    stderr = run.stderr;
    result = JSON.parse(run.stdout) as SpawnResult;
  });

  it('runs the agent on the task with its session id, hook settings and a token for the node', () => {
    expect(status, stderr).toBe(0);
    expect(result).toEqual({ session_id: expect.any(String), exit_code: 0, end_seq: null });
    expect(stderr).toContain(`vaultmesh: session ${result.session_id} started (claude, pid `);
    expect(stderr).toContain('fake claude: done');
    const [start] = readLog(log);
    expect(start!.kind).toBe('start');
    expect(start!.argv!.slice(0, 4)).toEqual(['-p', task, '--session-id', result.session_id]);
    expect(start!.argv![4]).toBe('--settings');
    const settings = JSON.parse(start!.argv![5]!) as {
      hooks: Record<string, Array<{ hooks: Array<{ command: string }> }>>;
    };
    expect(Object.keys(settings.hooks).sort()).toEqual([...HOOK_EVENTS].sort());
    expect(settings.hooks.PreToolUse![0]!.hooks[0]!.command).toContain(
      ` console hook --node ${node.url} --wait 130`,
    );
    expect(start!.cwd).toBe(project);
    expect(start!.url).toBe(node.url);
    expect(start!.token).toMatch(/^vmt1\./);
    expect(start!.session).toBe(result.session_id);
  });

  it('every hook the agent ran exited 0; the contract shaped the answers', () => {
    const hooks = readLog(log).filter((e) => e.kind === 'hook');
    expect(hooks.map((h) => [h.event, h.tool_use_id ?? null])).toEqual([
      ['SessionStart', null],
      ['UserPromptSubmit', null],
      ['PreToolUse', 'toolu_fake_bash'],
      ['PostToolUse', 'toolu_fake_bash'],
      // Only git_push needs a person in this contract: rm -rf goes ahead.
      ['PreToolUse', 'toolu_fake_rm'],
      ['PostToolUse', 'toolu_fake_rm'],
      ['PreToolUse', 'toolu_fake_write_1'],
      ['PostToolUse', 'toolu_fake_write_1'],
      ['PreToolUse', 'toolu_fake_write_2'],
      ['PostToolUse', 'toolu_fake_write_2'],
      ['PreToolUse', 'toolu_fake_write_3'],
      ['PostToolUse', 'toolu_fake_write_3'],
      // A fourth file is one more than --max-files 3 allows.
      ['PreToolUse', 'toolu_fake_write_4'],
      ['Stop', null],
      ['SessionEnd', null],
    ]);
    for (const h of hooks) {
      expect(h.results, h.event).toHaveLength(1);
      expect(h.results![0]!.code, `${h.event}: ${h.results![0]!.stderr}`).toBe(0);
      expect(h.results![0]!.stderr).toBe('');
    }
    const denied = hooks.filter((h) => h.results![0]!.stdout !== '');
    expect(denied.map((h) => h.tool_use_id)).toEqual(['toolu_fake_write_4']);
    const output = JSON.parse(denied[0]!.results![0]!.stdout) as {
      hookSpecificOutput: { permissionDecision: string; permissionDecisionReason: string };
    };
    expect(output.hookSpecificOutput.permissionDecision).toBe('deny');
    expect(output.hookSpecificOutput.permissionDecisionReason).toBe(
      'VaultMesh policy (max_files_modified): the session has modified 3 files; its contract allows 3',
    );
  });

  it('records the contract first, with the task and the constraints', () => {
    const receipts = node.sessionReceipts(result.session_id);
    const first = receipts[0]!;
    expect(first.type).toBe('console_session_start');
    expect(first.tags).toEqual(['console', 'claude-code', 'spawn']);
    expect(first.body).toEqual({
      agent_type: 'claude-code',
      caller: expect.stringMatching(/^did:vm:human:/),
      project_path: project,
      source: 'spawn',
      contract: {
        contract_type: 'console_session',
        session_id: result.session_id,
        agent_type: 'claude-code',
        caller: first.body.caller,
        project_path: project,
        capabilities_requested: ['file_read', 'file_write', 'bash_execute', 'git_commit'],
        constraints: {
          max_files_modified: 3,
          require_approval_for: ['git_push'],
          sandbox_mode: false,
          approval_timeout_seconds: 120,
        },
        task,
        task_hash: blake3Tagged(task),
        created_at: expect.any(String),
      },
    });
    expect(receipts.map((r) => r.type)).toEqual([
      'console_session_start', // spawn: the contract
      'console_session_start', // the agent's SessionStart hook
      'console_prompt',
      'console_tool_call',
      'console_command',
      'console_tool_call',
      'console_command',
      'console_tool_call',
      'console_file_edit',
      'console_tool_call',
      'console_file_edit',
      'console_tool_call',
      'console_file_edit',
      'console_tool_call', // the fourth write, refused
      'console_approval',
      'console_turn_end',
      'console_session_end',
    ]);
    // The hook's token speaks for the agent of this session.
    expect(receipts[1]!.body.caller).toBe(first.body.caller);
    expect(receipts[14]!.body).toMatchObject({
      decided_by: 'policy',
      approved: false,
      action_type: 'file_write',
    });
  });

  it('derives an ended session that kept the contract and the task', async () => {
    const state = await node.vmJson<Record<string, unknown>>([
      'console',
      'session',
      'show',
      result.session_id,
    ]);
    expect(state).toMatchObject({
      status: 'ended',
      exit_reason: 'other',
      agent_type: 'claude-code',
      project_path: project,
      current_task: task,
      commands_executed: 2,
      files_modified: 3,
      tool_calls: 6,
      prompts: 1,
      flags: [],
      pending_approvals: [],
    });
    expect((state.contract as Record<string, unknown>).task).toBe(task);
  });

  it('records the end of a session whose agent exited 1 without ending it', async () => {
    const crashLog = join(node.root, 'fake-crash.log');
    const run = await node.vm(
      [
        '--format',
        'json',
        'console',
        'spawn',
        'claude',
        '--task',
        'Crash on purpose',
        '--project',
        project,
        '--bin',
        fake,
        '--node',
        node.url,
      ],
      { FAKE_CLAUDE_LOG: crashLog, FAKE_CLAUDE_MODE: 'crash', VAULTMESH_STATE_DIR: node.stateDir },
    );
    expect(run.status, run.stderr).toBe(1);
    const crashed = JSON.parse(run.stdout) as SpawnResult;
    expect(crashed).toEqual({ session_id: expect.any(String), exit_code: 1, end_seq: expect.any(Number) });
    expect(run.stderr).toContain('fake claude: crashed');
    const receipts = node.sessionReceipts(crashed.session_id);
    expect(receipts.map((r) => r.type)).toEqual([
      'console_session_start',
      'console_session_start',
      'console_session_end',
    ]);
    const end = receipts[2]!;
    expect(end.seq).toBe(crashed.end_seq);
    expect(end.tags).toEqual(['console', 'claude-code', 'spawn']);
    expect(end.body).toEqual({
      duration_ms: expect.any(Number),
      commands_executed: 0,
      files_modified: 0,
      exit_reason: 'process exited with code 1',
    });
    const state = await node.vmJson<Record<string, unknown>>([
      'console',
      'session',
      'show',
      crashed.session_id,
    ]);
    expect(state).toMatchObject({ status: 'ended', exit_reason: 'process exited with code 1' });
    expect(existsSync(join(node.data, 'runs', 'console', crashed.session_id, 'agent.pid'))).toBe(false);
  });

  it('stops with AGENT_NOT_FOUND (exit 3) when the agent is not on PATH, recording nothing', async () => {
    const empty = join(node.root, 'empty-path');
    mkdirSync(empty);
    const before = node.scrollText();
    const run = await node.vm(['--format', 'json', 'console', 'spawn', 'claude', '--task', 'x'], {
      PATH: empty,
    });
    expect(run.status).toBe(3);
    expect(run.stdout).toBe('');
    const error = jsonError(run);
    expect(error.code).toBe('AGENT_NOT_FOUND');
    expect(error.message).toBe('claude is not installed (not found on PATH)');
    expect(error.hint).toContain('npm install -g @anthropic-ai/claude-code');
    expect(error.hint).toContain('--bin');
    const human = await node.vm(['console', 'spawn', 'claude', '--task', 'x'], { PATH: empty });
    expect(human.status).toBe(3);
    expect(human.stderr).toContain('error[AGENT_NOT_FOUND]: claude is not installed (not found on PATH)');
    expect(node.scrollText()).toBe(before);
  });
});

describe('vm console install-hooks', () => {
  let project: string;
  let settingsFile: string;
  const unrelated = { matcher: 'Bash', hooks: [{ type: 'command', command: '/usr/local/bin/lint-guard' }] };
  const notification = { hooks: [{ type: 'command', command: 'notify-send "Claude needs you"' }] };

  interface Installed {
    settings_file: string;
    token_file: string;
    token_id: string;
    node: string;
    events: string[];
  }
  type Settings = {
    permissions?: unknown;
    hooks: Record<
      string,
      Array<{ matcher?: string; hooks: Array<{ type: string; command: string; timeout?: number }> }>
    >;
  };

  const install = async (): Promise<Installed> =>
    node.vmJson<Installed>(['console', 'install-hooks', '--project', project, '--node', node.url]);
  const ours = (entry: { hooks: Array<{ command: string }> }) =>
    entry.hooks.some((h) => h.command.includes(' console hook '));

  beforeAll(() => {
    project = join(node.root, 'hooked-project');
    mkdirSync(join(project, '.claude'), { recursive: true });
    settingsFile = join(project, '.claude', 'settings.local.json');
    writeFileSync(
      settingsFile,
      JSON.stringify({
        permissions: { allow: ['Bash(npm test)'] },
        hooks: { PreToolUse: [unrelated], Notification: [notification] },
      }),
    );
  });

  it('writes hooks for all 8 events, keeps the unrelated ones, and stores the token 0600', async () => {
    const installed = await install();
    expect(installed).toEqual({
      settings_file: settingsFile,
      token_file: expect.stringMatching(/\/hooks\/claude-code-[0-9a-f]{12}\.token$/),
      token_id: expect.any(String),
      node: node.url,
      events: HOOK_EVENTS,
    });
    expect(installed.token_file.startsWith(join(node.data, 'hooks'))).toBe(true);
    expect(statSync(installed.token_file).mode & 0o777).toBe(0o600);
    const settings = JSON.parse(readFileSync(settingsFile, 'utf8')) as Settings;
    expect(settings.permissions).toEqual({ allow: ['Bash(npm test)'] });
    expect(Object.keys(settings.hooks).sort()).toEqual([...HOOK_EVENTS, 'Notification'].sort());
    expect(settings.hooks.Notification).toEqual([notification]);
    expect(settings.hooks.PreToolUse![0]).toEqual(unrelated);
    for (const event of HOOK_EVENTS) {
      const entries = settings.hooks[event]!.filter(ours);
      expect(entries, event).toHaveLength(1);
      const [hook] = entries[0]!.hooks;
      expect(hook!.type).toBe('command');
      expect(hook!.command).toContain(
        ` console hook --node ${node.url} --wait 130 --token-file ${installed.token_file}`,
      );
      expect(hook!.timeout).toBe(event === 'PreToolUse' ? 160 : 30);
      expect(entries[0]!.matcher).toBe(
        ['PreToolUse', 'PostToolUse', 'PostToolUseFailure'].includes(event) ? '*' : undefined,
      );
    }
  });

  it('the installed command records an event with the stored token', async () => {
    const settings = JSON.parse(readFileSync(settingsFile, 'utf8')) as Settings;
    const command = settings.hooks.SessionStart!.find(ours)!.hooks[0]!.command;
    const session = randomUUID();
    // Only the data in the command line: no node address or token in the environment.
    const env = hookEnv({ VAULTMESH_STATE_DIR: node.stateDir });
    const viaShell = spawnSync('sh', ['-c', command], {
      input: JSON.stringify({
        session_id: session,
        transcript_path: '/tmp/t.jsonl',
        cwd: project,
        permission_mode: 'default',
        hook_event_name: 'SessionStart',
        source: 'startup',
      }),
      encoding: 'utf8',
      env,
    });
    expect(viaShell.status, viaShell.stderr).toBe(0);
    expect(viaShell.stdout).toBe('');
    const [start] = node.sessionReceipts(session);
    expect(start!.type).toBe('console_session_start');
    expect(start!.body.caller).toMatch(/^did:vm:agent:claude-code-[0-9a-f]{12}$/);
  });

  it('is idempotent: a second run leaves one VaultMesh entry per event', async () => {
    const first = JSON.parse(readFileSync(settingsFile, 'utf8')) as Settings;
    const installed = await install();
    const second = JSON.parse(readFileSync(settingsFile, 'utf8')) as Settings;
    expect(Object.keys(second.hooks).sort()).toEqual(Object.keys(first.hooks).sort());
    for (const event of HOOK_EVENTS) expect(second.hooks[event]!.filter(ours), event).toHaveLength(1);
    expect(second.hooks.PreToolUse).toHaveLength(2);
    expect(second.hooks.PreToolUse![0]).toEqual(unrelated);
    expect(second.hooks.Notification).toEqual([notification]);
    expect(second.permissions).toEqual({ allow: ['Bash(npm test)'] });
    expect(second).toEqual(first); // same token file, same command lines
    expect(statSync(installed.token_file).mode & 0o777).toBe(0o600);
  });
});

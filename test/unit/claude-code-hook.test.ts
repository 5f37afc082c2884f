import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import canonicalize from 'canonicalize';
import { afterAll, describe, expect, it } from 'vitest';
import { CLAUDE_CODE_EVENTS } from '../../src/core/console/claude-code.js';
import { consoleEventSchema, type ConsoleEvent } from '../../src/core/console/events.js';
import { HookInputError, denyOutput, toConsoleEvent } from '../../src/interfaces/hooks/claude-code.js';

const NOW = new Date('2026-11-23T07:00:00.000Z');
const SESSION = 'abc123de-f456-7890-abcd-ef1234567890';
const dir = mkdtempSync(join(tmpdir(), 'vm-cc-hook-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** SHA-256 computed here, independently of the hook's helpers. */
const sha256 = (data: string | Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const jcsHash = (value: unknown): string => sha256(canonicalize(value)!);

/** The fields Claude Code sends with every hook event. */
const base = (hook_event_name: string, cwd = dir) => ({
  session_id: SESSION,
  transcript_path: `/home/dev/.claude/projects/demo/${SESSION}.jsonl`,
  cwd,
  permission_mode: 'default',
  hook_event_name,
});

/** A copy without one field. */
function without<T extends object>(value: T, key: keyof T): Partial<T> {
  const copy: Partial<T> = { ...value };
  delete copy[key];
  return copy;
}

function convert(payload: unknown, storeContent = false): ConsoleEvent {
  const event = toConsoleEvent(payload, { now: NOW, storeContent });
  // Whatever the hook sends must be what the engine accepts, unchanged.
  expect(consoleEventSchema.parse(event)).toEqual(event);
  return event;
}

const common = { v: 1, agent: 'claude-code', session_id: SESSION, observed_at: NOW.toISOString(), cwd: dir };

describe('toConsoleEvent: the eight Claude Code events', () => {
  it('covers exactly the events the Console records', () => {
    expect([...CLAUDE_CODE_EVENTS]).toEqual([
      'SessionStart',
      'UserPromptSubmit',
      'PreToolUse',
      'PostToolUse',
      'PostToolUseFailure',
      'Stop',
      'SubagentStop',
      'SessionEnd',
    ]);
  });

  it('SessionStart: source and model', () => {
    expect(
      convert({ ...base('SessionStart'), source: 'startup', model: 'claude-sonnet-4-5-20250929' }),
    ).toEqual({
      ...common,
      event: 'session_start',
      source: 'startup',
      model_id: 'claude-sonnet-4-5-20250929',
    });
    // A model given as an object, a sub-agent type, no source.
    expect(
      convert({
        ...base('SessionStart'),
        model: { id: 'claude-opus-4', display_name: 'Opus' },
        agent_type: 'x',
      }),
    ).toEqual({ ...common, event: 'session_start', model_id: 'claude-opus-4', agent_type: 'x' });
    // Without cwd the event has none.
    expect(convert(without(base('SessionStart'), 'cwd'))).toEqual({
      ...without(common, 'cwd'),
      event: 'session_start',
    });
  });

  it('UserPromptSubmit: the hash and length of the prompt, its text only when content is stored', () => {
    const prompt = 'Refactor greet() — use a template literal ✓';
    const payload = { ...base('UserPromptSubmit'), prompt };
    const hashed = convert(payload);
    expect(hashed).toEqual({
      ...common,
      event: 'prompt',
      prompt_hash: sha256(Buffer.from(prompt, 'utf8')),
      prompt_chars: prompt.length,
    });
    expect(hashed).not.toHaveProperty('prompt');
    expect(JSON.stringify(hashed)).not.toContain('Refactor');
    expect(convert(payload, true)).toEqual({ ...hashed, prompt });
  });

  it('PreToolUse Bash: the command as subject, params_hash the SHA-256 of the JCS of tool_input', () => {
    const tool_input = { description: 'Run the test suite', command: 'npm test', timeout: 120000 };
    const event = convert({
      ...base('PreToolUse'),
      tool_name: 'Bash',
      tool_input,
      tool_use_id: 'toolu_01A1npmtest0000000000001',
    });
    expect(event).toEqual({
      ...common,
      event: 'tool_pre',
      tool_use_id: 'toolu_01A1npmtest0000000000001',
      tool_name: 'Bash',
      params_hash: jcsHash(tool_input),
      subject: { command: 'npm test' },
    });
    // Key order does not change the hash: RFC 8785 sorts keys.
    expect(jcsHash(tool_input)).toBe(
      sha256('{"command":"npm test","description":"Run the test suite","timeout":120000}'),
    );
  });

  it('PostToolUse Bash: result_hash of the JCS of tool_response, no exit code or interruption invented', () => {
    const tool_response = { stdout: '# pass 3\n', stderr: '', interrupted: false, isImage: false };
    const event = convert({
      ...base('PostToolUse'),
      tool_name: 'Bash',
      tool_input: { command: 'npm test', description: 'Run the test suite' },
      tool_response,
      tool_use_id: 'toolu_1',
    });
    expect(event).toEqual({
      ...common,
      event: 'tool_post',
      tool_use_id: 'toolu_1',
      tool_name: 'Bash',
      params_hash: jcsHash({ command: 'npm test', description: 'Run the test suite' }),
      subject: { command: 'npm test' },
      result_hash: jcsHash(tool_response),
    });
    const interrupted = convert({
      ...base('PostToolUse'),
      tool_name: 'Bash',
      tool_input: { command: 'sleep 100' },
      tool_response: { ...tool_response, interrupted: true },
      tool_use_id: 'toolu_2',
    });
    expect(interrupted).toMatchObject({ event: 'tool_post', interrupted: true });
  });

  it('Pre and PostToolUse Edit: the file hash before and after against the real file, lines from structuredPatch', () => {
    const file = join(dir, 'greet.ts');
    writeFileSync(file, 'a\nc\n');
    const tool_input = { file_path: file, old_string: 'a', new_string: 'b' };
    const pre = convert({ ...base('PreToolUse'), tool_name: 'Edit', tool_input, tool_use_id: 'toolu_e' });
    expect(pre).toEqual({
      ...common,
      event: 'tool_pre',
      tool_use_id: 'toolu_e',
      tool_name: 'Edit',
      params_hash: jcsHash(tool_input),
      subject: { file_path: file },
      file_hash: sha256('a\nc\n'),
    });
    writeFileSync(file, 'b\nc\n');
    const tool_response = {
      filePath: file,
      oldString: 'a',
      newString: 'b',
      originalFile: 'a\nc\n',
      structuredPatch: [{ oldStart: 1, oldLines: 2, newStart: 1, newLines: 2, lines: ['-a', '+b', ' c'] }],
      userModified: false,
      replaceAll: false,
    };
    const post = convert({
      ...base('PostToolUse'),
      tool_name: 'Edit',
      tool_input,
      tool_response,
      tool_use_id: 'toolu_e',
    });
    expect(post).toEqual({
      ...common,
      event: 'tool_post',
      tool_use_id: 'toolu_e',
      tool_name: 'Edit',
      params_hash: jcsHash(tool_input),
      subject: { file_path: file },
      result_hash: jcsHash(tool_response),
      file_hash: sha256('b\nc\n'),
      lines_changed: 2,
    });
  });

  it('file paths relative to cwd are hashed there; a file that does not exist yet hashes to null', () => {
    writeFileSync(join(dir, 'rel.txt'), 'relative\n');
    const rel = convert({
      ...base('PreToolUse'),
      tool_name: 'Write',
      tool_input: { file_path: 'rel.txt', content: 'x' },
      tool_use_id: 'toolu_r',
    });
    expect(rel).toMatchObject({ subject: { file_path: 'rel.txt' }, file_hash: sha256('relative\n') });
    const created = convert({
      ...base('PreToolUse'),
      tool_name: 'Write',
      tool_input: { file_path: join(dir, 'new.ts'), content: 'one\ntwo\n' },
      tool_use_id: 'toolu_w',
    });
    expect(created).toMatchObject({ event: 'tool_pre', file_hash: null });
    // A created file comes back with an empty patch: its content is what changed.
    writeFileSync(join(dir, 'new.ts'), 'one\ntwo\n');
    const post = convert({
      ...base('PostToolUse'),
      tool_name: 'Write',
      tool_input: { file_path: join(dir, 'new.ts'), content: 'one\ntwo\n' },
      tool_response: {
        type: 'create',
        filePath: join(dir, 'new.ts'),
        content: 'one\ntwo\n',
        structuredPatch: [],
      },
      tool_use_id: 'toolu_w',
    });
    expect(post).toMatchObject({ file_hash: sha256('one\ntwo\n'), lines_changed: 2 });
  });

  it('NotebookEdit names its notebook_path as the file', () => {
    const event = convert({
      ...base('PreToolUse'),
      tool_name: 'NotebookEdit',
      tool_input: { notebook_path: join(dir, 'none.ipynb'), new_source: 'x = 1' },
      tool_use_id: 'toolu_nb',
    });
    expect(event).toMatchObject({ subject: { file_path: join(dir, 'none.ipynb') }, file_hash: null });
  });

  it('Read and MCP tools carry no file hash and no command', () => {
    const read = convert({
      ...base('PreToolUse'),
      tool_name: 'Read',
      tool_input: { file_path: join(dir, 'greet.ts') },
      tool_use_id: 'toolu_read',
    });
    expect(read).not.toHaveProperty('file_hash');
    expect(read).toMatchObject({ subject: { file_path: join(dir, 'greet.ts') } });
    const mcp = convert({
      ...base('PreToolUse'),
      tool_name: 'mcp__github__create_issue',
      tool_input: { title: 'x', command: 'not a shell line' },
      tool_use_id: 'toolu_mcp',
    });
    expect(mcp).toMatchObject({ subject: {} });
  });

  it('Task: the hash of the sub-agent prompt and its type', () => {
    const tool_input = {
      description: 'Review',
      prompt: 'Review src/greet.ts',
      subagent_type: 'code-reviewer',
    };
    const event = convert({ ...base('PreToolUse'), tool_name: 'Task', tool_input, tool_use_id: 'toolu_t' });
    expect(event).toMatchObject({
      event: 'tool_pre',
      task_hash: sha256('Review src/greet.ts'),
      subagent_type: 'code-reviewer',
    });
  });

  it('PostToolUseFailure: the hash of the error, the exit code read from it, is_interrupt', () => {
    const error = 'Exit code 2\n> demo@1.0.0 lint\n> eslint src\n\n✖ 1 problem (1 error, 0 warnings)';
    const tool_input = { command: 'npm run lint', description: 'Lint the sources' };
    const event = convert({
      ...base('PostToolUseFailure'),
      tool_name: 'Bash',
      tool_input,
      tool_use_id: 'toolu_lint',
      error,
      is_interrupt: false,
    });
    expect(event).toEqual({
      ...common,
      event: 'tool_failure',
      tool_use_id: 'toolu_lint',
      tool_name: 'Bash',
      params_hash: jcsHash(tool_input),
      subject: { command: 'npm run lint' },
      error_hash: sha256(error),
      exit_code: 2,
    });
    const interrupted = convert({
      ...base('PostToolUseFailure'),
      tool_name: 'Bash',
      tool_input,
      tool_use_id: 'toolu_lint2',
      error: 'The user doesn\u2019t want to proceed',
      is_interrupt: true,
    });
    expect(interrupted).toMatchObject({ event: 'tool_failure', interrupted: true });
    expect(interrupted).not.toHaveProperty('exit_code');
  });

  it('Stop: the hash of the last assistant message, when there is one', () => {
    expect(convert({ ...base('Stop'), stop_hook_active: false, last_assistant_message: 'Done.' })).toEqual({
      ...common,
      event: 'turn_end',
      message_hash: sha256('Done.'),
    });
    expect(convert({ ...base('Stop'), stop_hook_active: false })).toEqual({ ...common, event: 'turn_end' });
  });

  it('SubagentStop: agent id and type', () => {
    expect(
      convert({
        ...base('SubagentStop'),
        stop_hook_active: false,
        agent_id: 'a1b2c3d4',
        agent_type: 'code-reviewer',
        agent_transcript_path: '/tmp/agent-a1b2c3d4.jsonl',
        last_assistant_message: 'LGTM',
      }),
    ).toEqual({
      ...common,
      event: 'subagent_end',
      agent_id: 'a1b2c3d4',
      agent_type: 'code-reviewer',
      message_hash: sha256('LGTM'),
    });
  });

  it('SessionEnd: the reason, "other" when none is given', () => {
    expect(convert({ ...base('SessionEnd'), reason: 'prompt_input_exit' })).toEqual({
      ...common,
      event: 'session_end',
      reason: 'prompt_input_exit',
    });
    expect(convert(base('SessionEnd'))).toMatchObject({ event: 'session_end', reason: 'other' });
  });
});

describe('toConsoleEvent: calls without a tool_use_id', () => {
  it('derives one id from the tool and its input, equal for Pre and Post of the same call', () => {
    const tool_input = { command: 'npm test' };
    const pre = convert({ ...base('PreToolUse'), tool_name: 'Bash', tool_input });
    const post = convert({
      ...base('PostToolUse'),
      tool_name: 'Bash',
      tool_input: { command: 'npm test' },
      tool_response: { stdout: '', stderr: '', interrupted: false, isImage: false },
    });
    const failure = convert({
      ...base('PostToolUseFailure'),
      tool_name: 'Bash',
      tool_input,
      error: 'Exit code 1',
    });
    if (pre.event !== 'tool_pre' || post.event !== 'tool_post' || failure.event !== 'tool_failure')
      throw new Error();
    expect(pre.tool_use_id).toMatch(/^h-[0-9a-f]{32}$/);
    expect(post.tool_use_id).toBe(pre.tool_use_id);
    expect(failure.tool_use_id).toBe(pre.tool_use_id);
    expect(pre.tool_use_id).toBe(`h-${jcsHash({ tool: 'Bash', input: tool_input }).slice(7, 39)}`);
    // Stable across runs, different for other input or another tool.
    const again = convert({ ...base('PreToolUse'), tool_name: 'Bash', tool_input: { command: 'npm test' } });
    expect(again.event === 'tool_pre' && again.tool_use_id).toBe(pre.tool_use_id);
    const other = convert({
      ...base('PreToolUse'),
      tool_name: 'Bash',
      tool_input: { command: 'npm run build' },
    });
    expect(other.event === 'tool_pre' && other.tool_use_id).not.toBe(pre.tool_use_id);
  });
});

describe('toConsoleEvent: git commits', () => {
  it('a Bash git commit reports the HEAD it made, with its message hash', () => {
    const repo = mkdtempSync(join(dir, 'repo-'));
    const git = (...args: string[]) =>
      execFileSync(
        'git',
        ['-c', 'user.name=T', '-c', 'user.email=t@example.org', '-c', 'commit.gpgsign=false', ...args],
        {
          cwd: repo,
          encoding: 'utf8',
        },
      );
    git('init', '-q');
    writeFileSync(join(repo, 'a.txt'), 'a');
    writeFileSync(join(repo, 'b.txt'), 'b');
    git('add', '-A');
    git('commit', '-q', '-m', 'Add greet() helper');
    const head = git('rev-parse', 'HEAD').trim();
    const event = convert({
      ...base('PostToolUse', repo),
      tool_name: 'Bash',
      tool_input: { command: 'git add -A && git commit -m "Add greet() helper"' },
      tool_response: { stdout: '', stderr: '', interrupted: false, isImage: false },
      tool_use_id: 'toolu_commit',
    });
    expect(event).toMatchObject({
      event: 'tool_post',
      git_commit: {
        commit_hash: head,
        files_changed: 2,
        message_hash: sha256('Add greet() helper'),
        signed: false,
      },
    });
    // Not a commit: no commit facts, even in a repository.
    const status = convert({
      ...base('PostToolUse', repo),
      tool_name: 'Bash',
      tool_input: { command: 'git status' },
      tool_response: { stdout: '', stderr: '', interrupted: false, isImage: false },
      tool_use_id: 'toolu_status',
    });
    expect(status).not.toHaveProperty('git_commit');
  });

  it('no commit facts outside a repository', () => {
    const event = convert({
      ...base('PostToolUse', mkdtempSync(join(tmpdir(), 'vm-cc-norepo-'))),
      tool_name: 'Bash',
      tool_input: { command: 'git commit -m x' },
      tool_response: {
        stdout: '',
        stderr: 'fatal: not a git repository',
        interrupted: false,
        isImage: false,
      },
      tool_use_id: 'toolu_c2',
    });
    expect(event).not.toHaveProperty('git_commit');
  });
});

describe('toConsoleEvent: payloads it cannot read', () => {
  const fails = (payload: unknown, message: RegExp) => {
    expect(() => toConsoleEvent(payload, { now: NOW, storeContent: false })).toThrow(HookInputError);
    expect(() => toConsoleEvent(payload, { now: NOW, storeContent: false })).toThrow(message);
  };

  it.each([null, 'PreToolUse', 42, [base('Stop')]])(
    'refuses a payload that is not an object: %j',
    (payload) => {
      fails(payload, /the hook payload must be a JSON object/);
    },
  );

  it('names hook_event_name when it is missing, not a string or unknown', () => {
    const rest = without(base('Stop'), 'hook_event_name');
    fails(rest, /^hook_event_name is missing$/);
    fails({ ...rest, hook_event_name: 7 }, /^hook_event_name must be a string, got 7$/);
    fails(
      { ...rest, hook_event_name: 'Notification' },
      /^hook_event_name "Notification" is not one of SessionStart, UserPromptSubmit, PreToolUse, PostToolUse, PostToolUseFailure, Stop, SubagentStop, SessionEnd$/,
    );
  });

  it('names session_id when it is missing, not a string or not a valid id', () => {
    const rest = without(base('Stop'), 'session_id');
    fails(rest, /^session_id is missing$/);
    fails({ ...rest, session_id: 12 }, /^session_id must be a string, got 12$/);
    fails(
      { ...rest, session_id: '../etc/passwd' },
      /^session_id "\.\.\/etc\/passwd" is not a valid session id$/,
    );
    fails({ ...rest, session_id: '' }, /session_id "" is not a valid session id/);
    fails({ ...rest, session_id: 'x'.repeat(129) }, /session_id "x{40}" is not a valid session id/);
  });

  it('names tool_input when it is not an object, and tool_name when it is missing', () => {
    const pre = { ...base('PreToolUse'), tool_name: 'Bash', tool_use_id: 'toolu_x' };
    fails({ ...pre, tool_input: 'npm test' }, /^tool_input must be an object, got "npm test"$/);
    fails({ ...pre, tool_input: ['npm', 'test'] }, /^tool_input must be an object/);
    fails(pre, /^tool_input is missing$/);
    const noName = without(pre, 'tool_name');
    fails({ ...noName, tool_input: {} }, /^tool_name is missing$/);
    fails({ ...pre, tool_input: {}, tool_use_id: 5 }, /^tool_use_id must be a string/);
  });

  it('names the prompt of a UserPromptSubmit and other mistyped fields', () => {
    fails(base('UserPromptSubmit'), /^prompt is missing$/);
    fails({ ...base('SessionEnd'), reason: 1 }, /^reason must be a string/);
    fails({ ...base('Stop'), cwd: ['/'] }, /^cwd must be a string/);
  });
});

describe('denyOutput', () => {
  it("is Claude Code's documented PreToolUse decision, exactly", () => {
    const out = denyOutput('VaultMesh policy (git_push): denied by did:vm:human:bob');
    expect(JSON.parse(out)).toStrictEqual({
      hookSpecificOutput: {
        hookEventName: 'PreToolUse',
        permissionDecision: 'deny',
        permissionDecisionReason: 'VaultMesh policy (git_push): denied by did:vm:human:bob',
      },
    });
    expect(out).toBe(
      '{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"deny","permissionDecisionReason":"VaultMesh policy (git_push): denied by did:vm:human:bob"}}',
    );
    // The reason is JSON-escaped, never breaking the output.
    expect(JSON.parse(denyOutput('a "quoted"\nreason')).hookSpecificOutput.permissionDecisionReason).toBe(
      'a "quoted"\nreason',
    );
  });
});

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/core/canonical.js';
import { auditSession, deriveSession, type Gap, type GapKind } from '../../src/core/console/session.js';
import { sealDraft, validateDraft, type Receipt } from '../../src/core/receipt.js';

const SESSION = 'sess-1';
const ISSUER = 'did:vm:node:vault-01';
const PROJECT = '/home/dev/project';
const T0 = Date.parse('2026-11-23T07:00:00.000Z');
const NOW = new Date(T0 + 60 * 60_000);

const sha = (label: string): string => `sha256:${createHash('sha256').update(label).digest('hex')}`;
const actionId = (n: number): string => `act-${n.toString(16).padStart(16, '0')}`;

/**
 * A session's receipts as the Console recorder writes them: same types, same body fields, one
 * receipt per minute unless told otherwise, the agent's own count in every event's receipts.
 */
class Session {
  readonly receipts: Receipt[] = [];
  private seq = 10;
  private agentSeq = 0;
  minute = 0;

  private add(type: string, body: Record<string, unknown>, options: { agent?: boolean } = {}): Receipt {
    const at = new Date(T0 + this.minute * 60_000).toISOString();
    const full = options.agent === false ? body : { ...body, observed_at: at, agent_seq: ++this.agentSeq };
    const draft = validateDraft({
      scroll: 'console',
      type,
      session_id: SESSION,
      tags: ['console', 'claude-code'],
      body: full as JsonObject,
    });
    const { receipt } = sealDraft(draft, this.seq++, at, ISSUER);
    this.receipts.push(receipt);
    this.minute++;
    return receipt;
  }

  /** Skips agent event numbers, as if the events were lost on the way. */
  lose(count = 1): this {
    this.agentSeq += count;
    return this;
  }

  start(constraints: Record<string, unknown> = {}, task?: string): this {
    this.add('console_session_start', {
      agent_type: 'claude-code',
      model_id: 'claude-opus-4',
      caller: 'did:vm:human:alice',
      project_path: PROJECT,
      source: 'startup',
      contract: {
        contract_type: 'console_session',
        session_id: SESSION,
        agent_type: 'claude-code',
        model_id: 'claude-opus-4',
        caller: 'did:vm:human:alice',
        project_path: PROJECT,
        capabilities_requested: ['file_read', 'file_write', 'bash_execute', 'git_commit', 'mcp_call'],
        constraints: {
          require_approval_for: ['git_push', 'file_delete'],
          sandbox_mode: false,
          approval_timeout_seconds: 120,
          ...constraints,
        },
        ...(task === undefined ? {} : { task, task_hash: sha(task) }),
        created_at: new Date(T0).toISOString(),
      },
    });
    return this;
  }

  prompt(text: string, store = false): this {
    this.add('console_prompt', {
      prompt_hash: sha(text),
      prompt_chars: text.length,
      ...(store ? { prompt: text } : {}),
    });
    return this;
  }

  pre(
    id: string,
    tool: string,
    kind: string,
    extra: Record<string, unknown> = {},
    gate: 'none' | 'policy' | 'approval' = 'none',
  ): this {
    this.add('console_tool_call', {
      tool_name: tool,
      params_hash: sha(`params:${id}`),
      result_hash: null,
      capability_used: 'bash_execute',
      phase: 'pre',
      tool_use_id: id,
      tool_kind: kind,
      action_types: [],
      gate,
      ...extra,
    });
    return this;
  }

  /** A pre held for a person, as the recorder writes it. */
  held(id: string, action: string, options: { tool?: string; expiresInMinutes?: number } = {}): this {
    const expires = new Date(T0 + (this.minute + (options.expiresInMinutes ?? 2)) * 60_000).toISOString();
    return this.pre(
      id,
      options.tool ?? 'Bash',
      'bash',
      {
        command: 'git',
        args_hash: sha('git push'),
        action_id: action,
        action_type: 'git_push',
        rule: 'git_push',
        policy_hash: sha('policy'),
        expires_at: expires,
      },
      'approval',
    );
  }

  /** A pre the policy refused, with the policy's own denial. */
  refused(id: string, action: string, path: string): this {
    this.pre(
      id,
      'Write',
      'file_edit',
      { file_path: path, action_id: action, rule: 'max_files_modified', reason: 'limit' },
      'policy',
    );
    return this.approval(action, false, { tool: 'Write', id, by: 'policy' });
  }

  approval(
    action: string,
    approved: boolean,
    options: { tool?: string; id?: string; argsHash?: string; by?: string } = {},
  ): this {
    this.add(
      'console_approval',
      {
        action_type: 'git_push',
        approved,
        approver: 'did:vm:human:bob',
        reason: approved ? 'ok' : 'no',
        decided_by: options.by ?? 'person',
        action_id: action,
        tool_name: options.tool ?? 'Bash',
        args_hash: options.argsHash ?? sha(`params:${options.id ?? ''}`),
        policy_hash: sha('policy'),
      },
      { agent: false },
    );
    return this;
  }

  command(id: string, command = 'npm', exit = 0, params = sha(`params:${id}`)): this {
    this.add('console_command', {
      command,
      args_hash: sha(command),
      exit_code: exit,
      duration_ms: 1000,
      result_hash: sha(`result:${id}`),
      tool_use_id: id,
      params_hash: params,
    });
    return this;
  }

  edit(id: string, path: string, tool = 'Edit'): this {
    this.add('console_file_edit', {
      file_path: path,
      old_hash: sha(`old:${path}`),
      new_hash: sha(`new:${path}`),
      edit_type: 'modify',
      lines_changed: 3,
      tool_name: tool,
      params_hash: sha(`params:${id}`),
      tool_use_id: id,
    });
    return this;
  }

  post(id: string, tool: string, kind: string, extra: Record<string, unknown> = {}): this {
    this.add('console_tool_call', {
      tool_name: tool,
      params_hash: sha(`params:${id}`),
      result_hash: sha(`result:${id}`),
      capability_used: 'file_read',
      phase: 'post',
      tool_kind: kind,
      duration_ms: 5,
      tool_use_id: id,
      ...extra,
    });
    return this;
  }

  commit(id: string, hash: string): this {
    this.add('console_git_commit', {
      commit_hash: hash,
      files_changed: 2,
      message_hash: sha('msg'),
      signed: false,
      tool_use_id: id,
    });
    return this;
  }

  spawn(id: string): this {
    this.add('console_agent_spawn', {
      parent_session_id: SESSION,
      child_session_id: `${SESSION}:${id}`,
      agent_type: 'Explore',
      task_hash: sha('task'),
      result_hash: sha('r'),
      tool_use_id: id,
      params_hash: sha(`params:${id}`),
    });
    return this;
  }

  turnEnd(subagent = false): this {
    this.add('console_turn_end', { subagent, message_hash: null });
    return this;
  }

  end(reason = 'prompt_input_exit', counters?: Record<string, number>): this {
    this.add('console_session_end', {
      duration_ms: 1000,
      commands_executed: 0,
      files_modified: 0,
      exit_reason: reason,
      ...(counters === undefined ? {} : { agent_counters: counters }),
    });
    return this;
  }

  // Complete calls: pre then outcome.
  bash(id: string, command = 'npm'): this {
    return this.pre(id, 'Bash', 'bash', { command, args_hash: sha(command) }).command(id, command);
  }

  write(id: string, path: string): this {
    return this.pre(id, 'Edit', 'file_edit', { file_path: path, file_hash: sha(`old:${path}`) }).edit(
      id,
      path,
    );
  }

  read(id: string, path: string): this {
    return this.pre(id, 'Read', 'file_read', { file_path: path }).post(id, 'Read', 'file_read', {
      file_path: path,
    });
  }
}

const kinds = (gaps: Gap[]): GapKind[] => gaps.map((g) => g.kind);

describe('deriveSession: counts', () => {
  it('counts what a whole session did', () => {
    const s = new Session()
      .start()
      .prompt('fix the build')
      .bash('t1', 'npm')
      .bash('t2', 'git')
      .commit('t2', 'a'.repeat(40))
      .read('t3', `${PROJECT}/a.ts`)
      .read('t4', `${PROJECT}/a.ts`)
      .read('t5', `${PROJECT}/b.ts`)
      .write('t6', `${PROJECT}/a.ts`)
      .write('t7', `${PROJECT}/a.ts`)
      .write('t8', `${PROJECT}/c.ts`)
      .pre('t9', 'Task', 'agent', { task_hash: sha('task') })
      .spawn('t9')
      .pre('t10', 'mcp__github__create_issue', 'mcp')
      .post('t10', 'mcp__github__create_issue', 'mcp')
      .prompt('now push')
      .held('t11', actionId(1))
      .approval(actionId(1), true, { id: 't11' })
      .command('t11', 'git')
      .turnEnd()
      .end();
    const state = deriveSession(s.receipts, NOW);
    expect(state).toMatchObject({
      session_id: SESSION,
      status: 'ended',
      agent_type: 'claude-code',
      model_id: 'claude-opus-4',
      caller: 'did:vm:human:alice',
      project_path: PROJECT,
      started_at: s.receipts[0]!.ts,
      last_event_at: s.receipts.at(-1)!.ts,
      ended_at: s.receipts.at(-1)!.ts,
      exit_reason: 'prompt_input_exit',
      commands_executed: 3,
      files_read: 2,
      files_modified: 2,
      tool_calls: 11,
      prompts: 2,
      approvals_requested: 1,
      approvals_granted: 1,
      approvals_denied: 0,
      subagents: 1,
      current_task: `prompt ${sha('now push').slice(0, 19)}… (8 chars)`,
      git_commits: ['a'.repeat(40)],
      pending_approvals: [],
      receipts: s.receipts.length,
      first_seq: 10,
      last_seq: 10 + s.receipts.length - 1,
    });
    expect(state.contract?.constraints.require_approval_for).toEqual(['git_push', 'file_delete']);
    expect(state.flags).toEqual([]);
  });

  it('takes current_task from the contract task over any prompt', () => {
    const s = new Session().start({}, 'upgrade the parser').prompt('something else', true);
    expect(deriveSession(s.receipts, NOW).current_task).toBe('upgrade the parser');
  });

  it('takes current_task from the latest prompt, its text when stored', () => {
    const s = new Session().start().prompt('first', true).prompt('second', true);
    expect(deriveSession(s.receipts, NOW).current_task).toBe('second');
    expect(deriveSession(new Session().start().receipts, NOW).current_task).toBeNull();
  });

  it('is killed when the end says so, ended otherwise, active without an end', () => {
    expect(deriveSession(new Session().start().end('killed: runaway').receipts, NOW).status).toBe('killed');
    expect(deriveSession(new Session().start().end('logout').receipts, NOW).status).toBe('ended');
    expect(deriveSession(new Session().start().receipts, NOW).status).toBe('active');
  });

  it('keeps the first start contract on a resume', () => {
    const s = new Session().start({ max_files_modified: 3 }, 'task one');
    s.start({ max_files_modified: 99 }, 'task two');
    const state = deriveSession(s.receipts, NOW);
    expect(state.contract?.constraints.max_files_modified).toBe(3);
    expect(state.current_task).toBe('task one');
    expect(state.started_at).toBe(s.receipts[0]!.ts);
  });

  it('refuses an empty receipt list', () => {
    expect(() => deriveSession([], NOW)).toThrow(/at least one receipt/);
  });
});

describe('deriveSession: approvals', () => {
  it('lists calls waiting for a person, not those expired or in a closed session', () => {
    const s = new Session()
      .start()
      .held('t1', actionId(1), { expiresInMinutes: 120 })
      .held('t2', actionId(2), { expiresInMinutes: 1 });
    const state = deriveSession(s.receipts, NOW);
    expect(state.approvals_requested).toBe(2);
    expect(state.pending_approvals).toEqual([
      {
        action_id: actionId(1),
        seq: 11,
        tool_name: 'Bash',
        action_type: 'git_push',
        rule: 'git_push',
        args_hash: sha('params:t1'),
        policy_hash: sha('policy'),
        requested_at: s.receipts[1]!.ts,
        expires_at: new Date(T0 + 121 * 60_000).toISOString(),
      },
    ]);
    // Every call is pending before either expires.
    expect(deriveSession(s.receipts, new Date(T0)).pending_approvals.map((p) => p.action_id)).toEqual([
      actionId(1),
      actionId(2),
    ]);
    s.end();
    expect(deriveSession(s.receipts, NOW).pending_approvals).toEqual([]);
  });

  it('counts grants and denials; a decided call is no longer pending', () => {
    const s = new Session()
      .start()
      .held('t1', actionId(1), { expiresInMinutes: 999 })
      .approval(actionId(1), true, { id: 't1' })
      .held('t2', actionId(2), { expiresInMinutes: 999 })
      .approval(actionId(2), false, { id: 't2' })
      .held('t3', actionId(3), { expiresInMinutes: 999 })
      .approval(actionId(3), false, { id: 't3', by: 'timeout' })
      .command('t1', 'git');
    const { state, gaps } = auditSession(s.receipts, NOW);
    expect(state).toMatchObject({
      approvals_requested: 3,
      approvals_granted: 1,
      approvals_denied: 2,
      pending_approvals: [],
      flags: [],
    });
    // Denied calls that never ran are not missing an outcome.
    expect(kinds(gaps)).toEqual(['no_session_end']);
  });

  it('a decision for another action is unbound and grants nothing', () => {
    const s = new Session()
      .start()
      .held('t1', actionId(1), { expiresInMinutes: 999 })
      .approval(actionId(7), true, { id: 't1' });
    const { state, gaps } = auditSession(s.receipts, NOW);
    expect(state.approvals_granted).toBe(0);
    expect(state.pending_approvals.map((p) => p.action_id)).toEqual([actionId(1)]);
    expect(gaps).toContainEqual({
      kind: 'unbound_approval',
      detail: `decision for ${actionId(7)}, which no call of this session asked for`,
      seq: 12,
    });
  });

  it('a decision with other arguments or another tool is unbound and grants nothing', () => {
    const s = new Session()
      .start()
      .held('t1', actionId(1), { expiresInMinutes: 999 })
      .approval(actionId(1), true, { id: 't1', argsHash: sha('params:something else') })
      .approval(actionId(1), true, { id: 't1', tool: 'Write' });
    const { state, gaps } = auditSession(s.receipts, NOW);
    expect(state.approvals_granted).toBe(0);
    expect(state.approvals_denied).toBe(0);
    expect(state.pending_approvals).toHaveLength(1);
    expect(gaps.filter((g) => g.kind === 'unbound_approval')).toEqual([
      {
        kind: 'unbound_approval',
        detail: `decision for ${actionId(1)} names other arguments than the call`,
        seq: 12,
      },
      {
        kind: 'unbound_approval',
        detail: `decision for ${actionId(1)} names other arguments than the call`,
        seq: 13,
      },
    ]);
    // A bound decision after them still decides.
    s.approval(actionId(1), true, { id: 't1' });
    expect(deriveSession(s.receipts, NOW).approvals_granted).toBe(1);
  });

  it('a second decision is a duplicate and the first wins', () => {
    const s = new Session()
      .start()
      .held('t1', actionId(1), { expiresInMinutes: 999 })
      .approval(actionId(1), false, { id: 't1' })
      .approval(actionId(1), true, { id: 't1' });
    const { state, gaps } = auditSession(s.receipts, NOW);
    expect(state).toMatchObject({ approvals_granted: 0, approvals_denied: 1 });
    expect(gaps).toContainEqual({
      kind: 'duplicate_decision',
      detail: `${actionId(1)} was already decided at seq 12; this one has no effect`,
      seq: 13,
    });
    // The call then running is a run after a denial, whatever the second decision said.
    s.command('t1', 'git');
    expect(deriveSession(s.receipts, NOW).flags.map((f) => f.rule)).toEqual(['executed_after_denial']);
  });

  it('a policy denial is neither an unbound decision nor a request', () => {
    const s = new Session().start().refused('t1', actionId(1), `${PROJECT}/x.ts`).end();
    const { state, gaps } = auditSession(s.receipts, NOW);
    expect(state).toMatchObject({
      tool_calls: 1,
      approvals_requested: 0,
      approvals_granted: 0,
      approvals_denied: 0,
    });
    expect(gaps).toEqual([]);
  });
});

describe('deriveSession: flags', () => {
  it('max_files_modified: flagged at the edit that goes past the limit, once per edit past it', () => {
    const s = new Session()
      .start({ max_files_modified: 2 })
      .write('t1', '/p/a')
      .write('t2', '/p/b')
      .write('t3', '/p/a')
      .write('t4', '/p/c');
    const state = deriveSession(s.receipts, NOW);
    expect(state.files_modified).toBe(3);
    expect(state.flags).toEqual([
      {
        rule: 'max_files_modified',
        detail: '3 files modified; the contract allows 2',
        seq: s.receipts.at(-1)!.seq,
      },
    ]);
  });

  it('max_duration_minutes: flagged once, at the first receipt past the limit', () => {
    const s = new Session().start({ max_duration_minutes: 3 }).bash('t1').bash('t2').bash('t3');
    // Receipts are one minute apart: the start at 0, then 1..6.
    const state = deriveSession(s.receipts, NOW);
    expect(state.flags).toEqual([
      {
        rule: 'max_duration_minutes',
        detail: 'activity 4 minutes after the start; the contract allows 3',
        seq: 14,
      },
    ]);
  });

  it('executed_without_approval: a held call that ran with no decision', () => {
    const s = new Session().start().held('t1', actionId(1), { expiresInMinutes: 999 }).command('t1', 'git');
    const state = deriveSession(s.receipts, NOW);
    expect(state.flags).toEqual([
      {
        rule: 'executed_without_approval',
        detail: `${actionId(1)} (Bash) ran with no decision recorded`,
        seq: 11,
      },
    ]);
    expect(state.pending_approvals).toEqual([]);
  });

  it('executed_after_denial: a held call that ran although denied', () => {
    const s = new Session()
      .start()
      .held('t1', actionId(1))
      .approval(actionId(1), false, { id: 't1', by: 'timeout' })
      .command('t1', 'git');
    expect(deriveSession(s.receipts, NOW).flags).toEqual([
      { rule: 'executed_after_denial', detail: `${actionId(1)} (Bash) ran although it was denied`, seq: 11 },
    ]);
  });
});

describe('deriveSession: flags (policy refusals)', () => {
  it('executed_after_denial: a call the policy refused that ran anyway', () => {
    const s = new Session().start().refused('t1', actionId(1), '/p/x').edit('t1', '/p/x').end();
    const { state, gaps } = auditSession(s.receipts, NOW);
    expect(state.flags).toEqual([
      {
        rule: 'executed_after_denial',
        detail: `${actionId(1)} (Write) ran although the policy refused it`,
        seq: 11,
      },
    ]);
    expect(gaps).toEqual([]);
  });
});

describe('auditSession: a call is its tool-use id and its arguments', () => {
  it('an outcome with other arguments than the announced call pairs with nothing', () => {
    const s = new Session()
      .start()
      .pre('t1', 'Bash', 'bash', { command: 'npm' })
      .command('t1', 'npm', 0, sha('params:other'))
      .end();
    expect(kinds(auditSession(s.receipts, NOW).gaps)).toEqual(['post_without_pre', 'pre_without_outcome']);
  });

  it('a held call replayed with other arguments does not inherit its approval', () => {
    const s = new Session()
      .start()
      .held('t1', actionId(1))
      .approval(actionId(1), true, { id: 't1' })
      .command('t1', 'git', 0, sha('params:other'))
      .end();
    const { state, gaps } = auditSession(s.receipts, NOW);
    expect(state.approvals_granted).toBe(1);
    expect(kinds(gaps)).toEqual(['post_without_pre', 'pre_without_outcome']);
  });
});

describe('auditSession: gaps', () => {
  it('finds nothing missing in a complete session', () => {
    const s = new Session()
      .start()
      .prompt('go')
      .bash('t1')
      .write('t2', '/p/a')
      .read('t3', '/p/a')
      .end('other', { commands_executed: 1, files_modified: 1, tool_calls: 3 });
    expect(auditSession(s.receipts, NOW).gaps).toEqual([]);
  });

  it('no_session_start: the first receipt is not a start', () => {
    const s = new Session().prompt('hi').end();
    expect(auditSession(s.receipts, NOW).gaps).toEqual([
      { kind: 'no_session_start', detail: 'first receipt is console_prompt', seq: 10 },
    ]);
    expect(deriveSession(s.receipts, NOW)).toMatchObject({
      agent_type: 'unknown',
      caller: 'unknown',
      contract: null,
    });
  });

  it('post_without_pre: an outcome whose call was never announced', () => {
    const s = new Session()
      .start()
      .command('t1', 'npm')
      .edit('t2', '/p/a')
      .post('t3', 'Read', 'file_read')
      .end();
    const { state, gaps } = auditSession(s.receipts, NOW);
    expect(gaps).toEqual([
      {
        kind: 'post_without_pre',
        detail: 'console_command for call t1 that was never announced (PreToolUse missing)',
        seq: 11,
      },
      {
        kind: 'post_without_pre',
        detail: 'console_file_edit for call t2 that was never announced (PreToolUse missing)',
        seq: 12,
      },
      {
        kind: 'post_without_pre',
        detail: 'console_tool_call for call t3 that was never announced (PreToolUse missing)',
        seq: 13,
      },
    ]);
    expect(state.tool_calls).toBe(0);
    expect(state.commands_executed).toBe(1);
  });

  it('a git commit is not an outcome of its own', () => {
    const s = new Session().start().bash('t1', 'git').commit('t1', 'b'.repeat(64)).end();
    expect(auditSession(s.receipts, NOW).gaps).toEqual([]);
  });

  it('pre_without_outcome: an announced call with no outcome, unless refused or waiting', () => {
    const s = new Session()
      .start()
      .pre('t1', 'Bash', 'bash', { command: 'npm' })
      .refused('t2', actionId(2), '/p/x')
      .held('t3', actionId(3), { expiresInMinutes: 999 })
      .held('t4', actionId(4))
      .approval(actionId(4), false, { id: 't4' })
      .held('t5', actionId(5))
      .approval(actionId(5), true, { id: 't5' })
      .held('t6', actionId(6), { expiresInMinutes: 1 });
    const gaps = auditSession(s.receipts, NOW).gaps.filter((g) => g.kind === 'pre_without_outcome');
    // t1 never finished; t5 was approved yet never finished; t6 expired with nothing recorded.
    expect(gaps.map((g) => g.detail)).toEqual([
      'call t1 (Bash) has no recorded outcome (PostToolUse missing)',
      'call t5 (Bash) has no recorded outcome (PostToolUse missing)',
      'call t6 (Bash) has no recorded outcome (PostToolUse missing)',
    ]);
    expect(gaps.map((g) => g.seq)).toEqual([11, 17, 19]);
  });

  it('no_session_end: the session never ended', () => {
    const s = new Session().start().bash('t1');
    expect(auditSession(s.receipts, NOW).gaps).toEqual([
      { kind: 'no_session_end', detail: `no session end; last event ${s.receipts.at(-1)!.ts}` },
    ]);
  });

  it('agent_seq_gap: numbers of the agent count that never arrived, single and ranges', () => {
    const s = new Session().start().lose(1).prompt('a').bash('t1').lose(3).end();
    expect(auditSession(s.receipts, NOW).gaps).toEqual([
      { kind: 'agent_seq_gap', detail: 'agent event 2 never arrived' },
      { kind: 'agent_seq_gap', detail: 'agent events 6–8 never arrived' },
    ]);
  });

  it('agent_seq_gap: numbers missing from the start', () => {
    const s = new Session().lose(2).start().end();
    expect(kinds(auditSession(s.receipts, NOW).gaps)).toEqual(['agent_seq_gap']);
    expect(auditSession(s.receipts, NOW).gaps[0]!.detail).toBe('agent events 1–2 never arrived');
  });

  it('counter_mismatch: tallies of the agent that the receipts do not bear out', () => {
    const s = new Session()
      .start()
      .bash('t1')
      .write('t2', '/p/a')
      .end('other', { commands_executed: 2, files_modified: 1, tool_calls: 5 });
    const end = s.receipts.at(-1)!.seq;
    expect(auditSession(s.receipts, NOW).gaps).toEqual([
      {
        kind: 'counter_mismatch',
        detail: 'the agent counted 2 commands_executed; the ledger has 1',
        seq: end,
      },
      { kind: 'counter_mismatch', detail: 'the agent counted 5 tool_calls; the ledger has 2', seq: end },
    ]);
  });

  it('unbound_approval and duplicate_decision are reported with their seqs', () => {
    const s = new Session()
      .start()
      .held('t1', actionId(1))
      .approval(actionId(9), true)
      .approval(actionId(1), true, { id: 't1' })
      .approval(actionId(1), true, { id: 't1' })
      .command('t1', 'git')
      .end();
    expect(auditSession(s.receipts, NOW).gaps).toEqual([
      {
        kind: 'unbound_approval',
        detail: `decision for ${actionId(9)}, which no call of this session asked for`,
        seq: 12,
      },
      {
        kind: 'duplicate_decision',
        detail: `${actionId(1)} was already decided at seq 13; this one has no effect`,
        seq: 14,
      },
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import {
  DEFAULT_APPROVAL_TIMEOUT_SECONDS,
  constraintsSchema,
  evaluatePre,
  patternMatches,
  sessionContractSchema,
  type PolicySession,
} from '../../src/core/console/policy.js';

const PROJECT = '/home/dev/project';
const STARTED = '2026-11-23T07:00:00.000Z';
const NOW = new Date('2026-11-23T07:30:00.000Z');

function session(
  constraints: Record<string, unknown> = {},
  extra: Partial<PolicySession> = {},
): PolicySession {
  return {
    status: 'active',
    started_at: STARTED,
    modified_files: new Set(),
    contract: sessionContractSchema.parse({
      contract_type: 'console_session',
      session_id: 'sess-1',
      agent_type: 'claude-code',
      caller: 'did:vm:human:alice',
      project_path: PROJECT,
      capabilities_requested: ['bash_execute', 'file_write'],
      constraints,
      created_at: STARTED,
    }),
    ...extra,
  };
}

const bash = (command: string) => ({ tool_name: 'Bash', subject: { command } });
const write = (file_path: string, tool_name = 'Write') => ({ tool_name, subject: { file_path } });

describe('constraints: defaults and validation', () => {
  it('defaults to approvals for git_push and file_delete, 120 s, no sandbox', () => {
    const c = constraintsSchema.parse({});
    expect(c).toEqual({
      require_approval_for: ['git_push', 'file_delete'],
      sandbox_mode: false,
      approval_timeout_seconds: 120,
    });
    expect(DEFAULT_APPROVAL_TIMEOUT_SECONDS).toBe(120);
  });

  it('accepts action types and tool patterns', () => {
    const rules = [
      'git_push',
      'mcp_call',
      'Bash(npm publish:*)',
      'mcp__github__*',
      'Write(*.env)',
      'WebFetch',
    ];
    expect(constraintsSchema.parse({ require_approval_for: rules }).require_approval_for).toEqual(rules);
  });

  it.each(['', 'Bash npm', 'Bash(', 'Bash(npm publish:*', '(npm)', 'Bash()', 'rm -rf'])(
    'refuses the rule %j naming the expected form',
    (rule) => {
      const result = constraintsSchema.safeParse({ require_approval_for: [rule] });
      expect(result.success).toBe(false);
      const messages = result.error!.issues.map((i) => i.message).join('\n');
      if (rule !== '') {
        expect(messages).toMatch(/expected an action type \(bash_execute, git_push, .*\) or a tool pattern/);
        expect(messages).toContain('Bash(npm publish:*)');
      }
      expect(result.error!.issues[0]!.path).toEqual(['require_approval_for', 0]);
    },
  );

  it('refuses unknown keys and out-of-range numbers', () => {
    expect(constraintsSchema.safeParse({ max_files: 3 }).success).toBe(false);
    expect(constraintsSchema.safeParse({ max_duration_minutes: 0 }).success).toBe(false);
    expect(constraintsSchema.safeParse({ max_files_modified: -1 }).success).toBe(false);
    expect(constraintsSchema.safeParse({ approval_timeout_seconds: 3601 }).success).toBe(false);
    expect(constraintsSchema.safeParse({ approval_timeout_seconds: 1.5 }).success).toBe(false);
  });
});

describe('evaluatePre: constraints', () => {
  it.each(['ended', 'killed'] as const)('refuses every call once the session is %s', (status) => {
    const d = evaluatePre(session({}, { status }), write(`${PROJECT}/a.ts`), NOW);
    expect(d).toMatchObject({ gate: 'policy', rule: 'session_closed', reason: `the session is ${status}` });
  });

  it('refuses calls past max_duration_minutes, not before', () => {
    const s = session({ max_duration_minutes: 30 });
    expect(evaluatePre(s, bash('ls'), NOW).gate).toBe('none'); // exactly 30 minutes
    const late = evaluatePre(s, bash('ls'), new Date('2026-11-23T07:45:10.000Z'));
    expect(late).toMatchObject({ gate: 'policy', rule: 'max_duration_minutes' });
    expect(late.gate === 'policy' && late.reason).toBe(
      'the session has run 45 minutes; its contract allows 30',
    );
  });

  it.each([
    'vm console approve act-0123456789abcdef',
    'npx vm console reject act-0123456789abcdef --reason no',
    'cd /tmp && vaultmesh console approve act-0123456789abcdef',
    'node bin/vm.js console reject act-0123456789abcdef',
  ])('refuses an agent deciding approvals itself: %j', (command) => {
    const d = evaluatePre(session({ require_approval_for: [] }), bash(command), NOW);
    expect(d).toMatchObject({ gate: 'policy', rule: 'self_approval' });
  });

  it("refuses an agent calling the node's own MCP approval tool, under any server name", () => {
    for (const tool of ['mcp__vaultmesh__console_approve_action', 'mcp__vm-local__console_approve_action']) {
      const d = evaluatePre(session({ require_approval_for: [] }), { tool_name: tool, subject: {} }, NOW);
      expect(d, tool).toMatchObject({ gate: 'policy', rule: 'self_approval' });
    }
    const list = { tool_name: 'mcp__vaultmesh__console_session_list', subject: {} };
    expect(evaluatePre(session({ require_approval_for: [] }), list, NOW).gate).toBe('none');
  });

  it('lets an agent list approvals', () => {
    const d = evaluatePre(session({ require_approval_for: [] }), bash('vm console approvals pending'), NOW);
    expect(d.gate).toBe('none');
  });

  it('sandbox mode refuses writes outside the project, absolute or ../ relative', () => {
    const s = session({ sandbox_mode: true });
    for (const path of [
      '/etc/passwd',
      '/home/dev/project-other/a.ts',
      `${PROJECT}/../secrets.txt`,
      '../outside.ts',
      'src/../../outside.ts',
    ]) {
      const d = evaluatePre(s, write(path), NOW);
      expect(d, path).toMatchObject({ gate: 'policy', rule: 'sandbox_mode' });
      expect(d.gate === 'policy' && d.reason, path).toBe(
        `sandbox mode: ${path} is outside the project ${PROJECT}`,
      );
    }
    for (const path of [`${PROJECT}/src/a.ts`, PROJECT, 'src/a.ts', './b.ts']) {
      expect(evaluatePre(s, write(path), NOW).gate, path).toBe('none');
    }
  });

  it('sandbox mode does not police reads, and writes outside are fine without it', () => {
    expect(evaluatePre(session({ sandbox_mode: true }), write('/etc/passwd', 'Read'), NOW).gate).toBe('none');
    expect(evaluatePre(session(), write('/etc/hosts'), NOW).gate).toBe('none');
  });

  it('max_files_modified counts distinct files: one already modified does not count again', () => {
    const s = session(
      { max_files_modified: 2 },
      { modified_files: new Set([`${PROJECT}/a.ts`, `${PROJECT}/b.ts`]) },
    );
    expect(evaluatePre(s, write(`${PROJECT}/a.ts`, 'Edit'), NOW).gate).toBe('none');
    expect(evaluatePre(s, write(`${PROJECT}/b.ts`, 'MultiEdit'), NOW).gate).toBe('none');
    const third = evaluatePre(s, write(`${PROJECT}/c.ts`), NOW);
    expect(third).toMatchObject({ gate: 'policy', rule: 'max_files_modified' });
    expect(third.gate === 'policy' && third.reason).toBe(
      'the session has modified 2 files; its contract allows 2',
    );
    // Reads are not modifications.
    expect(evaluatePre(s, write(`${PROJECT}/c.ts`, 'Read'), NOW).gate).toBe('none');
    // Under the limit, a new file is fine.
    const one = session({ max_files_modified: 2 }, { modified_files: new Set([`${PROJECT}/a.ts`]) });
    expect(evaluatePre(one, write(`${PROJECT}/c.ts`), NOW).gate).toBe('none');
  });

  it('max_files_modified of 0 refuses every write', () => {
    expect(evaluatePre(session({ max_files_modified: 0 }), write(`${PROJECT}/a.ts`), NOW)).toMatchObject({
      gate: 'policy',
      rule: 'max_files_modified',
    });
  });

  it('applies constraints before approvals: a max_files denial wins over an approval rule', () => {
    const s = session(
      { max_files_modified: 1, require_approval_for: ['file_write', 'Write(*.env)'] },
      { modified_files: new Set([`${PROJECT}/a.ts`]) },
    );
    expect(evaluatePre(s, write(`${PROJECT}/.env`), NOW)).toMatchObject({
      gate: 'policy',
      rule: 'max_files_modified',
    });
    // The file already modified only needs the approval.
    expect(evaluatePre(s, write(`${PROJECT}/a.ts`), NOW)).toMatchObject({
      gate: 'approval',
      rule: 'file_write',
    });
  });

  it('a closed session is refused before anything else', () => {
    const s = session({ max_duration_minutes: 1 }, { status: 'killed' });
    expect(evaluatePre(s, bash('vm console approve act-0123456789abcdef'), NOW)).toMatchObject({
      rule: 'session_closed',
    });
  });
});

describe('evaluatePre: approvals', () => {
  it('holds git_push and file_delete by default, naming the rule and action type', () => {
    const s = session();
    expect(evaluatePre(s, bash('cd x && git push origin main'), NOW)).toEqual({
      gate: 'approval',
      actions: ['bash_execute', 'git_push'],
      rule: 'git_push',
      action_type: 'git_push',
    });
    expect(evaluatePre(s, bash('rm -rf build'), NOW)).toMatchObject({
      gate: 'approval',
      rule: 'file_delete',
      action_type: 'file_delete',
    });
    expect(evaluatePre(s, bash('npm test'), NOW)).toEqual({ gate: 'none', actions: ['bash_execute'] });
    expect(evaluatePre(s, bash('git commit -m x'), NOW).gate).toBe('none');
  });

  it('holds action types named in require_approval_for', () => {
    const s = session({ require_approval_for: ['git_commit', 'mcp_call', 'agent_spawn', 'file_read'] });
    expect(evaluatePre(s, bash('git commit -m x'), NOW)).toMatchObject({
      gate: 'approval',
      rule: 'git_commit',
    });
    expect(evaluatePre(s, { tool_name: 'mcp__slack__post', subject: {} }, NOW)).toMatchObject({
      rule: 'mcp_call',
    });
    expect(evaluatePre(s, { tool_name: 'Task', subject: {} }, NOW)).toMatchObject({ rule: 'agent_spawn' });
    expect(evaluatePre(s, write('a.ts', 'Read'), NOW)).toMatchObject({ rule: 'file_read' });
    expect(evaluatePre(s, bash('git push'), NOW).gate).toBe('none'); // not listed any more
  });

  it('holds calls matching tool patterns', () => {
    const s = session({ require_approval_for: ['Bash(npm publish:*)', 'mcp__github__*', 'Write(*.env)'] });
    const held = (call: { tool_name: string; subject: Record<string, string> }, rule: string) =>
      expect(evaluatePre(s, call, NOW)).toMatchObject({ gate: 'approval', rule, action_type: rule });
    held(bash('npm publish --access public'), 'Bash(npm publish:*)');
    held(bash('npm run build && npm publish'), 'Bash(npm publish:*)');
    held({ tool_name: 'mcp__github__create_issue', subject: {} }, 'mcp__github__*');
    held(write(`${PROJECT}/.env`), 'Write(*.env)');
    held(write('config/prod.env'), 'Write(*.env)');
    for (const call of [
      bash('npm test'),
      bash('echo npm publish'),
      { tool_name: 'mcp__slack__post', subject: {} },
      write(`${PROJECT}/.env.example`),
      write(`${PROJECT}/.env`, 'Edit'),
    ]) {
      expect(evaluatePre(s, call, NOW).gate, JSON.stringify(call)).toBe('none');
    }
  });

  it('takes the first matching rule in order', () => {
    const s = session({ require_approval_for: ['Bash(git push:*)', 'git_push'] });
    expect(evaluatePre(s, bash('git push'), NOW)).toMatchObject({ rule: 'Bash(git push:*)' });
  });

  it('sandbox mode makes every shell command need an approval', () => {
    const s = session({ sandbox_mode: true, require_approval_for: [] });
    expect(evaluatePre(s, bash('ls'), NOW)).toEqual({
      gate: 'approval',
      actions: ['bash_execute'],
      rule: 'sandbox_mode',
      action_type: 'bash_execute',
    });
    expect(evaluatePre(s, { tool_name: 'bash', subject: { command: 'ls' } }, NOW).gate).toBe('approval');
    expect(evaluatePre(s, write(`${PROJECT}/a.ts`), NOW).gate).toBe('none');
    // An explicit rule is named before sandbox mode.
    expect(evaluatePre(session({ sandbox_mode: true }), bash('git push'), NOW)).toMatchObject({
      rule: 'git_push',
    });
  });
});

describe('patternMatches', () => {
  it('matches tool names as case-insensitive globs', () => {
    expect(patternMatches('Bash', 'bash', { command: 'ls' })).toBe(true);
    expect(patternMatches('mcp__*', 'mcp__x__y', {})).toBe(true);
    expect(patternMatches('mcp__github__*', 'mcp__gitlab__y', {})).toBe(false);
    expect(patternMatches('Web.*', 'WebFetch', {})).toBe(false); // . is literal
  });

  it('needs a subject for an argument pattern', () => {
    expect(patternMatches('Bash(ls:*)', 'Bash', {})).toBe(false);
    expect(patternMatches('Write(*.env)', 'Write', {})).toBe(false);
  });

  it('matches exact and glob arguments', () => {
    expect(patternMatches('Bash(npm test)', 'Bash', { command: 'npm test' })).toBe(true);
    expect(patternMatches('Bash(npm test)', 'Bash', { command: 'npm test --watch' })).toBe(false);
    expect(patternMatches('Read(/etc/*)', 'Read', { file_path: '/etc/passwd' })).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import {
  capabilityOf,
  classify,
  commandName,
  shellCommands,
  toolKind,
  type ActionType,
} from '../../src/core/console/shell.js';

const bash = (command: string): ActionType[] => classify('Bash', { command }).sort();
const sorted = (...actions: ActionType[]): ActionType[] => [...actions].sort();

describe('classify: shell lines', () => {
  it.each<[string, ActionType[]]>([
    ['git push', ['bash_execute', 'git_push']],
    ['git -C repo push --force', ['bash_execute', 'git_push']],
    ['git -c push.default=current --no-pager push', ['bash_execute', 'git_push']],
    ['/usr/bin/git push origin main', ['bash_execute', 'git_push']],
    ['cd x && git push', ['bash_execute', 'git_push']],
    ['make; git push || true', ['bash_execute', 'git_push']],
    ['FOO=1 git push', ['bash_execute', 'git_push']],
    ['sudo rm -rf /tmp/x', ['bash_execute', 'file_delete']],
    ["find . -name '*.o' -delete", ['bash_execute', 'file_delete']],
    ['git rm file', ['bash_execute', 'file_delete']],
    ['git clean -fdx', ['bash_execute', 'file_delete']],
    ['git commit -m "x"', ['bash_execute', 'git_commit']],
    ['git add . && git commit -m wip && git push', ['bash_execute', 'git_commit', 'git_push']],
    ['ls | xargs rm', ['bash_execute', 'file_delete']],
    ['npm test', ['bash_execute']],
    ['git status', ['bash_execute']],
    ['find . -name "*.o"', ['bash_execute']],
    ['', ['bash_execute']],
  ])('%j → %j', (line, expected) => {
    expect(bash(line)).toEqual(sorted(...expected));
  });

  it('does not read quoted text as a command: echo "git push" only echoes', () => {
    // The words are `echo`, `"git`, `push"`: the program is echo, so no push is seen.
    expect(bash('echo "git push"')).toEqual(['bash_execute']);
    expect(bash("printf '%s\\n' 'rm -rf /'")).toEqual(['bash_execute']);
  });

  it('over-approximates when a quoted string holds a separator (conservative: asks more, never less)', () => {
    // Quotes are not parsed, so `;` inside them still splits; the policy then asks for an approval.
    expect(bash("echo 'x; git push origin'")).toEqual(sorted('bash_execute', 'git_push'));
  });

  it('sees commands inside subshells, groups and shell keywords', () => {
    expect(bash('(cd repo && git push)')).toEqual(sorted('bash_execute', 'git_push'));
    expect(bash('(git push)')).toEqual(sorted('bash_execute', 'git_push'));
    expect(bash('{ git push; }')).toEqual(sorted('bash_execute', 'git_push'));
    expect(bash('if make; then git push; fi')).toEqual(sorted('bash_execute', 'git_push'));
    expect(bash('for f in *.o; do rm "$f"; done')).toEqual(sorted('bash_execute', 'file_delete'));
    expect(bash('while read f; do unlink $f; done < list')).toEqual(sorted('bash_execute', 'file_delete'));
    expect(bash('(find . -name x -delete)')).toEqual(sorted('bash_execute', 'file_delete'));
  });

  it('classifies non-shell tools by their kind, whatever their subject', () => {
    expect(classify('Write', { file_path: '/p/a.ts' })).toEqual(['file_write']);
    expect(classify('Edit', { file_path: '/p/a.ts' })).toEqual(['file_write']);
    expect(classify('Read', { file_path: '/p/a.ts' })).toEqual(['file_read']);
    expect(classify('Task', {})).toEqual(['agent_spawn']);
    expect(classify('mcp__github__create_issue', {})).toEqual(['mcp_call']);
    expect(classify('WebFetch', {})).toEqual([]);
    // A command on a non-shell tool is not parsed.
    expect(classify('Write', { command: 'git push' })).toEqual(['file_write']);
    // OpenCode's lower-case bash tool is a shell tool too.
    expect(classify('bash', { command: 'git push' }).sort()).toEqual(sorted('bash_execute', 'git_push'));
  });
});

describe('toolKind', () => {
  it.each([
    ['Bash', 'bash'],
    ['Write', 'file_edit'],
    ['Edit', 'file_edit'],
    ['MultiEdit', 'file_edit'],
    ['NotebookEdit', 'file_edit'],
    ['Read', 'file_read'],
    ['Task', 'agent'],
    ['Agent', 'agent'],
    ['mcp__github__create_issue', 'mcp'],
    ['WebFetch', 'other'],
    ['Glob', 'other'],
  ])('Claude Code %s → %s', (name, kind) => {
    expect(toolKind(name)).toBe(kind);
  });

  it.each([
    ['bash', 'bash'],
    ['edit', 'file_edit'],
    ['write', 'file_edit'],
    ['read', 'file_read'],
    ['patch', 'file_edit'],
    ['task', 'agent'],
  ])('OpenCode %s → %s', (name, kind) => {
    expect(toolKind(name)).toBe(kind);
  });

  it('needs the mcp__ prefix exactly for MCP tools', () => {
    expect(toolKind('mcp_github')).toBe('other');
    expect(toolKind('MCP__x__y')).toBe('other');
  });
});

describe('capabilityOf', () => {
  it('names the capability a call exercises, a commit above all', () => {
    expect(capabilityOf('bash', ['bash_execute', 'git_commit'])).toBe('git_commit');
    expect(capabilityOf('bash', ['bash_execute', 'git_push'])).toBe('bash_execute');
    expect(capabilityOf('file_edit', ['file_write'])).toBe('file_write');
    expect(capabilityOf('file_read', ['file_read'])).toBe('file_read');
    expect(capabilityOf('agent', ['agent_spawn'])).toBe('console_spawn');
    expect(capabilityOf('mcp', ['mcp_call'])).toBe('mcp_call');
    expect(capabilityOf('other', [])).toBe('console_execute');
  });
});

describe('commandName and shellCommands', () => {
  it.each([
    ['git push', 'git'],
    ['  npm   test  ', 'npm'],
    ['/usr/local/bin/node script.js', 'node'],
    ['FOO=1 BAR=2 make all', 'make'],
    ['sudo -E rm -rf x', 'rm'],
    ['env NODE_ENV=test npx vitest', 'npx'],
    ['cd x && git push', 'cd'],
    ['(cd x && npm test)', 'cd'],
    ['', '(empty)'],
    ['   ', '(empty)'],
  ])('commandName(%j) = %j', (line, name) => {
    expect(commandName(line)).toBe(name);
  });

  it('cuts a long program name to 64 characters', () => {
    expect(commandName(`${'x'.repeat(100)} --flag`)).toBe('x'.repeat(64));
  });

  it('splits on ; && || | & and newlines and drops empty commands', () => {
    expect(shellCommands('a 1; b 2 && c || d | e & f\ng;;')).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c'],
      ['d'],
      ['e'],
      ['f'],
      ['g'],
    ]);
  });
});

describe('classify: commands nested in other commands', () => {
  it.each([
    ['sudo -u root rm x', 'file_delete'],
    ['echo $(git push)', 'git_push'],
    ['echo `rm -rf build`', 'file_delete'],
    ['bash -c "git push origin main"', 'git_push'],
    ["sh -c 'cd repo && git push'", 'git_push'],
    ['eval "rm -rf build"', 'file_delete'],
  ] as const)('%s is %s', (command, action) => {
    expect(classify('Bash', { command })).toContain(action);
  });

  it('stops reading nested shells after a few levels', () => {
    expect(classify('Bash', { command: 'echo "git push"' })).toEqual(['bash_execute']);
    expect(
      shellCommands('bash -c "bash -c \\"bash -c \\\\\\"bash -c x\\\\\\"\\""').length,
    ).toBeLessThanOrEqual(5);
  });
});

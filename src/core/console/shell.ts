/**
 * What a tool call is, read from its name and what it acts on: the kind of tool, the action types
 * a shell line amounts to (a push, a delete, a commit), the program it runs. Pure and free of
 * dependencies, because the agent hook loads it in every short-lived process.
 */

/** The subject of a call, as far as classification needs it. */
export interface Subject {
  command?: string | undefined;
  file_path?: string | undefined;
}

/** Action types the policy recognises in `require_approval_for`, besides tool patterns. */
export const ACTION_TYPES = [
  'bash_execute',
  'git_push',
  'git_commit',
  'file_delete',
  'file_write',
  'file_read',
  'mcp_call',
  'agent_spawn',
] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export type ToolKind = 'bash' | 'file_edit' | 'file_read' | 'agent' | 'mcp' | 'other';

/** Tool names of Claude Code (PascalCase) and OpenCode (lower case) mapped onto what they do. */
const TOOL_KINDS: Record<string, ToolKind> = {
  bash: 'bash',
  write: 'file_edit',
  edit: 'file_edit',
  multiedit: 'file_edit',
  notebookedit: 'file_edit',
  patch: 'file_edit',
  read: 'file_read',
  notebookread: 'file_read',
  task: 'agent',
  agent: 'agent',
};

export function toolKind(toolName: string): ToolKind {
  if (toolName.startsWith('mcp__')) return 'mcp';
  return TOOL_KINDS[toolName.toLowerCase()] ?? 'other';
}

/** The capability a call exercises (seed 001 §1.1). */
export function capabilityOf(kind: ToolKind, actions: readonly ActionType[]): string {
  if (actions.includes('git_commit')) return 'git_commit';
  switch (kind) {
    case 'bash':
      return 'bash_execute';
    case 'file_edit':
      return 'file_write';
    case 'file_read':
      return 'file_read';
    case 'agent':
      return 'console_spawn';
    case 'mcp':
      return 'mcp_call';
    default:
      return 'console_execute';
  }
}

/**
 * Simple commands of a shell line: split on ; && || | and newlines, each as its words, with the
 * closing `)` and `}` of a subshell or group dropped, so `(cd repo && git push)` still reads `push`.
 */
export function shellCommands(line: string, depth = 0): string[][] {
  const commands = line
    // What a command substitution runs is a command too: `echo $(git push)`, `echo \`rm -rf x\``.
    .replace(/\$\(|`/g, ';')
    .split(/\|\||&&|[;|\n&]/)
    .map((segment) =>
      segment
        .trim()
        .split(/\s+/)
        // Closing brackets of a group, and quotes a split left behind: `sh -c 'cd x && git push'`.
        .map((word) => word.replace(/[)}'"]+$/, '').replace(/^['"]+/, ''))
        .filter(Boolean),
    )
    .map(stripPrefixes)
    .filter((words) => words.length > 0);
  // `bash -c "git push"` and `eval "rm -rf x"` run their string: read it as the commands it holds.
  if (depth >= MAX_NESTING) return commands;
  return commands.flatMap((words) => {
    const program = programName(words[0]!);
    const at = SHELLS.has(program) ? words.indexOf('-c') : program === 'eval' ? 0 : -1;
    if (at < 0) return [words];
    const script = words
      .slice(at + 1)
      .join(' ')
      .replace(/['"]/g, '');
    return [words, ...shellCommands(script, depth + 1)];
  });
}

const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'fish']);
const MAX_NESTING = 3;

const WRAPPERS = new Set(['sudo', 'env', 'command', 'exec', 'nohup', 'time', 'xargs', 'doas']);
/** Options of those wrappers that take a value: `sudo -u root rm x` runs rm, not root. */
const WRAPPER_OPTIONS_WITH_VALUE = new Set(['-u', '-g', '-C', '-D', '-r', '-t', '-U', '-h', '-p']);
/** Shell keywords a command can follow: `if git push; then rm x; fi`. */
const KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!']);

function stripPrefixes(words: string[]): string[] {
  let i = 0;
  while (i < words.length) {
    const w = words[i]!.replace(/^[({]+/, '');
    if (
      w === '' ||
      /^[A-Za-z_][A-Za-z0-9_]*=/.test(w) ||
      WRAPPERS.has(w) ||
      KEYWORDS.has(w) ||
      (w.startsWith('-') && i > 0)
    )
      i += i > 0 && WRAPPER_OPTIONS_WITH_VALUE.has(w) ? 2 : 1;
    else break;
  }
  return words.slice(i).map((w, k) => (k === 0 ? w.replace(/^[({]+/, '') : w));
}

function programName(word: string): string {
  return word.slice(word.lastIndexOf('/') + 1);
}

/** The git subcommand of `git [-C dir] [-c k=v] [--flags] <sub>`. */
function gitSubcommand(words: readonly string[]): string | undefined {
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w === '-C' || w === '-c' || w === '--git-dir' || w === '--work-tree') i++;
    else if (!w.startsWith('-')) return w;
  }
  return undefined;
}

const DELETERS = new Set(['rm', 'rmdir', 'unlink', 'shred', 'trash', 'srm']);

/** The first word of a command line's first command: what the receipt names (`git`, `npm`). */
export function commandName(line: string): string {
  const first = shellCommands(line)[0];
  return first === undefined ? line.trim().slice(0, 64) || '(empty)' : programName(first[0]!).slice(0, 64);
}

/** Every action type a call amounts to. */
export function classify(toolName: string, subject: Subject): ActionType[] {
  const kind = toolKind(toolName);
  const actions = new Set<ActionType>();
  if (kind === 'bash') {
    actions.add('bash_execute');
    for (const words of shellCommands(subject.command ?? '')) {
      const program = programName(words[0]!);
      if (DELETERS.has(program)) actions.add('file_delete');
      if (program === 'find' && words.includes('-delete')) actions.add('file_delete');
      if (program === 'git') {
        const sub = gitSubcommand(words);
        if (sub === 'push') actions.add('git_push');
        if (sub === 'commit') actions.add('git_commit');
        if (sub === 'rm' || sub === 'clean') actions.add('file_delete');
      }
    }
  } else if (kind === 'file_edit') actions.add('file_write');
  else if (kind === 'file_read') actions.add('file_read');
  else if (kind === 'agent') actions.add('agent_spawn');
  else if (kind === 'mcp') actions.add('mcp_call');
  return [...actions];
}

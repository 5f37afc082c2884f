/**
 * What only the agent's machine can see, gathered before an event leaves it: hashes of content
 * (so the content itself never has to), a file's hash before and after an edit, and the commit a
 * `git commit` made. The same facts, computed the same way, as the Claude Code hook gathers
 * (src/interfaces/hooks/local-facts.ts in the VaultMesh repository); this package carries its own
 * copy because it runs inside OpenCode, where the VaultMesh node's code is not installed.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import canonicalize from 'canonicalize';

export function sha256Of(data: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The hash of a JSON value's RFC 8785 form: what an approval binds a call's arguments by. */
export function jsonHash(value: unknown): string {
  return sha256Of(canonicalize(value ?? null) ?? 'null');
}

/** The file's SHA-256 now, or null when there is no such file. */
export function fileHash(path: string, cwd: string): string | null {
  try {
    return sha256Of(readFileSync(isAbsolute(path) ? path : resolve(cwd, path)));
  } catch {
    return null;
  }
}

export interface CommitFacts {
  commit_hash: string;
  files_changed: number;
  message_hash: string;
  signed: boolean;
}

/** HEAD of the repository at `cwd`, after a `git commit` ran there; undefined when git cannot say. */
export function headCommit(cwd: string): CommitFacts | undefined {
  const git = (args: string[]) =>
    execFileSync('git', args, { cwd, encoding: 'utf8', timeout: 3000, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const [hash, signature, ...message] = git(['log', '-1', '--format=%H%x00%G?%x00%B']).split('\0');
    const files = git(['diff-tree', '--root', '--no-commit-id', '--name-only', '-r', 'HEAD'])
      .split('\n')
      .filter((line) => line !== '');
    return {
      commit_hash: hash!.trim(),
      files_changed: files.length,
      message_hash: sha256Of(message.join('\0').trimEnd()),
      signed: signature !== undefined && signature !== 'N',
    };
  } catch {
    return undefined;
  }
}

export type ToolKind = 'bash' | 'file_edit' | 'file_read' | 'agent' | 'other';

/**
 * Tools by what they do: the node's own table (src/core/console/shell.ts), which it applies again
 * to every call. Here it decides which local facts to gather, and keeps this plugin's tallies
 * counting exactly what the ledger counts.
 */
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

export function toolKind(tool: string): ToolKind {
  return TOOL_KINDS[tool.toLowerCase()] ?? 'other';
}

const WRAPPERS = new Set(['sudo', 'env', 'command', 'exec', 'nohup', 'time', 'doas']);

/** The words of one simple command, without leading `VAR=value` assignments and wrappers like `sudo`. */
function commandWords(segment: string): string[] {
  const words = segment.trim().split(/\s+/).filter(Boolean);
  let i = 0;
  while (i < words.length && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!) || WRAPPERS.has(words[i]!))) i++;
  return words.slice(i);
}

/** The git subcommand of `git [-C dir] [-c k=v] [--flags] <sub>`. */
function gitSubcommand(words: readonly string[]): string | undefined {
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    if (word === '-C' || word === '-c' || word === '--git-dir' || word === '--work-tree') i++;
    else if (!word.startsWith('-')) return word;
  }
  return undefined;
}

/** Does the shell line run `git commit`? Then the commit it made is worth reading afterwards. */
export function runsGitCommit(line: string): boolean {
  return line
    .split(/\|\||&&|[;|\n&]/)
    .map(commandWords)
    .some((words) => words[0]?.replace(/^.*\//, '') === 'git' && gitSubcommand(words) === 'commit');
}

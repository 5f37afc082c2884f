/**
 * What only the agent's machine can see, gathered by the hook before an event leaves it: hashes
 * of content (so the content itself never has to), a file's hash before and after an edit, the
 * commit a `git commit` made, and the hook's own count of the events it tried to deliver.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import canonicalize from 'canonicalize';

export function sha256Of(data: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The hash of a JSON value's RFC 8785 form: what an approval binds a call's arguments by. */
export function jsonHash(value: unknown): string {
  return sha256Of(canonicalize(value ?? null) ?? 'null');
}

/** The file's SHA-256 now, or null when there is no such file. */
export function fileHash(path: string, cwd: string | undefined): string | null {
  try {
    return sha256Of(readFileSync(isAbsolute(path) || cwd === undefined ? path : resolve(cwd, path)));
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
export function headCommit(cwd: string | undefined): CommitFacts | undefined {
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

/** One claim in a session's count file: a fixed-size record, so a record's place is its number. */
const RECORD_BYTES = 17;

/**
 * The next number in this session's event count. Each hook appends one fixed-size record naming
 * itself (an O_APPEND write that small lands whole, even with hooks running side by side) and reads
 * back where its record landed: that place is its number, so no two hooks share one. The count is
 * taken before delivery, so an event that never reaches the ledger leaves a visible hole.
 */
export function nextAgentSeq(sessionId: string, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const base =
    env.VAULTMESH_STATE_DIR ?? join(env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'vaultmesh');
  try {
    const dir = join(base, 'agent-seq');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `${sessionId}.seq`);
    const claim = `${randomBytes(8).toString('hex')}\n`;
    const fd = openSync(file, 'a', 0o600);
    try {
      writeSync(fd, claim);
    } finally {
      closeSync(fd);
    }
    const claims = readFileSync(file, 'latin1');
    for (let at = claims.indexOf(claim); at >= 0; at = claims.indexOf(claim, at + 1)) {
      if (at % RECORD_BYTES === 0) return at / RECORD_BYTES + 1;
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/**
 * Pointing real agents at the ledger: Claude Code's hook settings (its documented `hooks` table in
 * `.claude/settings*.json`), the credential the hook presents, and `vm console spawn`, which starts
 * an agent under a session contract with its hooks aimed at this node.
 */
import { spawn, type StdioOptions } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JsonObject } from '../../core/canonical.js';
import { CLAUDE_CODE_EVENTS } from '../../core/console/claude-code.js';
import { constraintsSchema, sessionContractSchema, type SessionContract } from '../../core/console/policy.js';
import { VaultMeshError } from '../../core/errors.js';
import { blake3Tagged } from '../../core/hash.js';
import type { SessionState } from '../../core/console/session.js';
import type { Receipt } from '../../core/receipt.js';
import type { Ledger } from '../../ledger/ledger.js';
import { issueToken, listTokens, revokeToken } from '../identity/tokens.js';
import { consoleConfig, type ConsoleConfig } from './config.js';
import { agentPidFile } from './control.js';
import { CONSOLE, sessionState } from './sessions.js';

const VM_BIN = fileURLToPath(new URL('../../../bin/vm.js', import.meta.url));
const TOOL_EVENTS = new Set<string>(['PreToolUse', 'PostToolUse', 'PostToolUseFailure']);
/** Above the policy's own wait, so the hook (not Claude Code's timeout, which fails open) decides. */
const HOOK_MARGIN_SECONDS = 30;

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Where the node listens, as a URL the hook can reach. */
function nodeUrl(ledger: Ledger): string {
  const { host, port } = ledger.identity.config.http;
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

export interface HookTarget {
  node: string;
  /** A file holding the hook's token; absent when the token comes from the environment. */
  tokenFile?: string;
  approvalTimeoutSeconds: number;
  storeContent: boolean;
}

/** Claude Code's `hooks` settings: every event runs `vm console hook` against this node. */
function claudeHookSettings(target: HookTarget): JsonObject {
  const wait = target.approvalTimeoutSeconds + 10;
  const command = [
    process.execPath,
    VM_BIN,
    'console',
    'hook',
    '--node',
    target.node,
    '--wait',
    String(wait),
    ...(target.tokenFile === undefined ? [] : ['--token-file', target.tokenFile]),
    ...(target.storeContent ? ['--store-content'] : []),
  ]
    .map(shellQuote)
    .join(' ');
  const hooks: JsonObject = {};
  for (const event of CLAUDE_CODE_EVENTS) {
    const entry: JsonObject = {
      hooks: [
        { type: 'command', command, timeout: event === 'PreToolUse' ? wait + HOOK_MARGIN_SECONDS : 30 },
      ],
    };
    if (TOOL_EVENTS.has(event)) entry.matcher = '*';
    hooks[event] = [entry];
  }
  return { hooks };
}

const isOurs = (entry: unknown): boolean => JSON.stringify(entry).includes(' console hook ');

/** Merges our hooks into a settings file, replacing any earlier VaultMesh hooks and keeping the rest. */
function mergeHookSettings(existing: JsonObject, ours: JsonObject): JsonObject {
  const current = (existing.hooks ?? {}) as Record<string, unknown>;
  if (typeof current !== 'object' || Array.isArray(current)) {
    throw new VaultMeshError(
      'INVALID_CONFIG',
      'the settings file has a "hooks" value that is not an object',
      {
        hint: 'fix the settings file by hand, then run vm console install-hooks again',
      },
    );
  }
  const merged: Record<string, unknown> = { ...current };
  for (const [event, entries] of Object.entries(ours.hooks as Record<string, unknown[]>)) {
    const kept = Array.isArray(current[event]) ? (current[event] as unknown[]).filter((e) => !isOurs(e)) : [];
    merged[event] = [...kept, ...entries];
  }
  return { ...existing, hooks: merged as JsonObject };
}

export type SettingsScope = 'local' | 'project' | 'user';

function settingsPath(scope: SettingsScope, project: string, home: string): string {
  if (scope === 'user') return join(home, '.claude', 'settings.json');
  return join(project, '.claude', scope === 'local' ? 'settings.local.json' : 'settings.json');
}

function writeAtomically(path: string, text: string, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode });
  renameSync(temp, path);
}

export interface InstalledHooks {
  settings_file: string;
  token_file: string;
  token_id: string;
  node: string;
  events: string[];
}

/** Issues the hook's token (storage on the Console scroll only), stores it 0600 and writes the settings. */
export async function installClaudeHooks(
  ledger: Ledger,
  options: { project: string; scope: SettingsScope; home: string; node?: string },
  now: Date,
): Promise<InstalledHooks> {
  const config = consoleConfig(ledger);
  const project = resolve(options.project);
  const name = `claude-code-${blake3Tagged(project).slice(7, 19)}`;
  const subject = `did:vm:agent:${name}`;
  const issued = await issueToken(
    ledger,
    { subject, grants: [{ capability: 'storage', scroll: CONSOLE }], ttlMs: 366 * 24 * 3600 * 1000 },
    now,
  );
  // Installing again replaces the hooks, so the token they held goes too.
  for (const earlier of listTokens(ledger)) {
    if (earlier.subject === subject && !earlier.revoked && earlier.id !== issued.claims.id) {
      await revokeToken(ledger, earlier.id, 'replaced by vm console install-hooks');
    }
  }
  const tokenFile = join(ledger.dataDir.root, 'hooks', `${name}.token`);
  writeAtomically(tokenFile, `${issued.token}\n`, 0o600);
  const file = settingsPath(options.scope, project, options.home);
  let existing: JsonObject = {};
  if (existsSync(file)) {
    try {
      existing = JSON.parse(readFileSync(file, 'utf8')) as JsonObject;
    } catch (cause) {
      throw new VaultMeshError('INVALID_CONFIG', `${file} is not valid JSON`, {
        cause,
        hint: 'fix or remove the file, then run this again',
      });
    }
  }
  const node = options.node ?? nodeUrl(ledger);
  const ours = claudeHookSettings({
    node,
    tokenFile,
    approvalTimeoutSeconds: config.constraints.approval_timeout_seconds,
    storeContent: config.store_content,
  });
  writeAtomically(file, `${JSON.stringify(mergeHookSettings(existing, ours), null, 2)}\n`);
  return {
    settings_file: file,
    token_file: tokenFile,
    token_id: issued.claims.id,
    node,
    events: [...CLAUDE_CODE_EVENTS],
  };
}

export const AGENTS = {
  claude: { binary: 'claude', agentType: 'claude-code', install: 'npm install -g @anthropic-ai/claude-code' },
  opencode: {
    binary: 'opencode',
    agentType: 'opencode',
    install: 'see https://opencode.ai/docs (and add @vaultmesh/opencode-plugin)',
  },
} as const;
export type AgentName = keyof typeof AGENTS;

function findExecutable(name: string, env: NodeJS.ProcessEnv): string | undefined {
  if (name.includes('/')) return existsSync(name) ? resolve(name) : undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface SpawnRequest {
  agent: string;
  task: string;
  project: string;
  caller: string;
  constraints: Record<string, unknown>;
  model?: string;
  /** The agent's executable, when it is not the usual name on PATH. */
  bin?: string;
}

export interface SpawnedSession {
  session_id: string;
  agent: AgentName;
  pid: number;
  contract: SessionContract;
  start_seq: number;
  exit: Promise<{ code: number | null; end?: Receipt }>;
}

/**
 * Starts an agent on a task: records the session contract first, then runs the agent with its
 * hooks aimed at this node and a token good for this session only. If the agent exits without
 * ending its session (its hooks failed, or it crashed), the exit is recorded as the end.
 */
export async function spawnAgent(
  ledger: Ledger,
  request: SpawnRequest,
  options: { env: NodeJS.ProcessEnv; now: Date; stdio: StdioOptions; node?: string },
): Promise<SpawnedSession> {
  if (!(request.agent in AGENTS)) {
    throw new VaultMeshError('INVALID_ARGUMENT', `agent "${request.agent}" is not one VaultMesh can start`, {
      hint: `use one of: ${Object.keys(AGENTS).join(', ')}`,
      evidence: { field: 'agent' },
    });
  }
  const agent = request.agent as AgentName;
  const spec = AGENTS[agent];
  const binary = findExecutable(request.bin ?? spec.binary, options.env);
  if (binary === undefined) {
    throw new VaultMeshError(
      'AGENT_NOT_FOUND',
      `${request.bin ?? spec.binary} is not installed (not found on PATH)`,
      {
        hint: `install it (${spec.install}) or name its executable with --bin`,
        evidence: { field: 'agent' },
      },
    );
  }
  const config: ConsoleConfig = consoleConfig(ledger);
  const constraints = constraintsSchema.parse({ ...config.constraints, ...request.constraints });
  const sessionId = randomUUID();
  const contract = sessionContractSchema.parse({
    contract_type: 'console_session',
    session_id: sessionId,
    agent_type: spec.agentType,
    ...(request.model === undefined ? {} : { model_id: request.model }),
    caller: request.caller,
    project_path: resolve(request.project),
    capabilities_requested: ['file_read', 'file_write', 'bash_execute', 'git_commit'],
    constraints,
    task: request.task,
    task_hash: blake3Tagged(request.task),
    created_at: options.now.toISOString(),
  });
  const ttlMs = ((constraints.max_duration_minutes ?? 24 * 60) + 60) * 60_000;
  const { token } = await issueToken(
    ledger,
    {
      subject: `did:vm:agent:${spec.agentType}-${sessionId}`,
      grants: [{ capability: 'storage', scroll: CONSOLE }],
      ttlMs,
    },
    options.now,
  );
  const [started] = await ledger.emit([
    {
      scroll: CONSOLE,
      type: 'console_session_start',
      session_id: sessionId,
      tags: ['console', spec.agentType, 'spawn'],
      body: {
        agent_type: spec.agentType,
        ...(request.model === undefined ? {} : { model_id: request.model }),
        caller: request.caller,
        project_path: contract.project_path,
        source: 'spawn',
        contract: contract as unknown as JsonObject,
      },
    },
  ]);
  const node = options.node ?? nodeUrl(ledger);
  const env = {
    ...options.env,
    VAULTMESH_URL: node,
    VAULTMESH_TOKEN: token,
    VAULTMESH_SESSION_ID: sessionId,
  };
  const args =
    agent === 'claude'
      ? [
          '-p',
          request.task,
          '--session-id',
          sessionId,
          '--settings',
          JSON.stringify(
            claudeHookSettings({
              node,
              approvalTimeoutSeconds: constraints.approval_timeout_seconds,
              storeContent: config.store_content,
            }),
          ),
          ...(request.model === undefined ? [] : ['--model', request.model]),
        ]
      : ['run', ...(request.model === undefined ? [] : ['--model', request.model]), request.task];
  const child = spawn(binary, args, { cwd: contract.project_path, env, stdio: options.stdio });
  // A process started for someone else (MCP) must not keep this one alive: its hooks end its session.
  if (options.stdio === 'ignore') child.unref();
  const pid = await new Promise<number>((resolvePid, reject) => {
    child.once('spawn', () => resolvePid(child.pid!));
    child.once('error', (cause) =>
      reject(
        new VaultMeshError('AGENT_NOT_FOUND', `cannot start ${binary}: ${cause.message}`, {
          cause,
          hint: 'check that the agent is installed and executable',
        }),
      ),
    );
  });
  const pidFile = agentPidFile(ledger, sessionId);
  mkdirSync(dirname(pidFile), { recursive: true });
  writeFileSync(pidFile, `${pid}\n`);
  const exit = new Promise<{ code: number | null; end?: Receipt }>((resolveExit, reject) => {
    child.once('exit', (code, signal) => {
      rmSync(pidFile, { force: true });
      let state: SessionState;
      try {
        state = sessionState(ledger, sessionId, new Date());
      } catch (error) {
        return reject(error as Error);
      }
      if (state.status !== 'active') return resolveExit({ code });
      ledger
        .emit([
          {
            scroll: CONSOLE,
            type: 'console_session_end',
            session_id: sessionId,
            tags: ['console', spec.agentType, 'spawn'],
            body: {
              duration_ms: Math.max(0, Date.now() - Date.parse(state.started_at)),
              commands_executed: state.commands_executed,
              files_modified: state.files_modified,
              exit_reason:
                signal === null ? `process exited with code ${code}` : `process ended by ${signal}`,
            },
          },
        ])
        .then(([appended]) => resolveExit({ code, end: appended!.receipt }), reject);
    });
  });
  return { session_id: sessionId, agent, pid, contract, start_seq: started!.receipt.seq, exit };
}

/**
 * The session contract (seed 001 §3.2) and the policy that enforces it before each tool call:
 * what kind of action a call is, whether a rule needs a person to approve it, and whether a
 * constraint already forbids it. Pure: the engine supplies the session's derived state and the time.
 */
import { z } from 'zod';
import type { ToolSubject } from './events.js';
import { ACTION_TYPES, classify, shellCommands, type ActionType } from './shell.js';

export { ACTION_TYPES, type ActionType } from './shell.js';

export const DEFAULT_APPROVAL_TIMEOUT_SECONDS = 120;

/** `git_push`, or a tool pattern in Claude Code's permission-rule form: `Bash(npm publish:*)`, `mcp__github__*`. */
const ruleSchema = z
  .string()
  .min(1)
  .max(300)
  .refine(
    (rule) => (ACTION_TYPES as readonly string[]).includes(rule) || /^[A-Za-z0-9_*.-]+(\(.+\))?$/.test(rule),
    `expected an action type (${ACTION_TYPES.join(', ')}) or a tool pattern such as Bash(npm publish:*)`,
  );

export const constraintsSchema = z.strictObject({
  max_duration_minutes: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .optional(),
  max_files_modified: z.number().int().min(0).max(1_000_000).optional(),
  require_approval_for: z.array(ruleSchema).max(100).default(['git_push', 'file_delete']),
  /** File writes outside the project are refused and every shell command needs an approval. */
  sandbox_mode: z.boolean().default(false),
  /** How long a call waits for a person; no answer in time is a denial. */
  approval_timeout_seconds: z.number().int().min(1).max(3600).default(DEFAULT_APPROVAL_TIMEOUT_SECONDS),
});
export type Constraints = z.infer<typeof constraintsSchema>;

export const sessionContractSchema = z.strictObject({
  contract_type: z.literal('console_session'),
  session_id: z.string().min(1).max(128),
  agent_type: z.string().min(1).max(100),
  model_id: z.string().max(200).optional(),
  caller: z.string().min(1).max(200),
  project_path: z.string().max(4096),
  capabilities_requested: z.array(z.string().min(1).max(64)).max(32),
  constraints: constraintsSchema,
  /** The task the session was started for (`vm console spawn --task`), and its hash. */
  task: z.string().max(4096).optional(),
  task_hash: z.string().optional(),
  created_at: z.iso.datetime({ offset: true }),
});
export type SessionContract = z.infer<typeof sessionContractSchema>;

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'i');
}

/** Does a `Tool` or `Tool(argument)` pattern match this call? */
export function patternMatches(rule: string, toolName: string, subject: ToolSubject): boolean {
  const open = rule.indexOf('(');
  const toolPattern = open < 0 ? rule : rule.slice(0, open);
  if (!globToRegExp(toolPattern).test(toolName)) return false;
  if (open < 0) return true;
  const argument = rule.slice(open + 1, -1);
  const target = subject.command ?? subject.file_path;
  if (target === undefined) return false;
  if (argument.endsWith(':*')) {
    const prefix = argument.slice(0, -2);
    return (
      shellCommands(target).some((words) => words.join(' ').startsWith(prefix)) || target.startsWith(prefix)
    );
  }
  return globToRegExp(argument).test(target);
}

/** Does the command line try to decide approvals itself? An agent must never approve its own call. */
function decidesApprovals(command: string | undefined): boolean {
  if (command === undefined) return false;
  return shellCommands(command).some((words) => {
    const i = words.findIndex((w) => w === 'console');
    return i >= 0 && ['approve', 'reject'].includes(words[i + 1] ?? '');
  });
}

function insideProject(path: string, project: string): boolean {
  if (!path.startsWith('/')) return !path.split('/').includes('..');
  // A contract that names no project confines writes to relative paths.
  if (project === '') return false;
  const root = project.endsWith('/') ? project : `${project}/`;
  return path === project || (path.startsWith(root) && !path.slice(root.length).split('/').includes('..'));
}

/** What the policy needs to know of the session so far. */
export interface PolicySession {
  status: 'active' | 'ended' | 'killed';
  started_at: string;
  modified_files: ReadonlySet<string>;
  contract: SessionContract;
}

export type PreDecision =
  | { gate: 'none'; actions: ActionType[] }
  | { gate: 'policy'; actions: ActionType[]; rule: string; reason: string }
  | { gate: 'approval'; actions: ActionType[]; rule: string; action_type: string };

/**
 * The decision before a call: refused outright by a constraint, held for a person, or let through.
 * Constraints come first, so an approval can never override them.
 */
export function evaluatePre(
  session: PolicySession,
  call: { tool_name: string; subject: ToolSubject },
  now: Date,
): PreDecision {
  const actions = classify(call.tool_name, call.subject);
  const { constraints, project_path: project } = session.contract;
  const deny = (rule: string, reason: string): PreDecision => ({ gate: 'policy', actions, rule, reason });
  if (session.status !== 'active') return deny('session_closed', `the session is ${session.status}`);
  if (constraints.max_duration_minutes !== undefined) {
    const elapsed = now.getTime() - Date.parse(session.started_at);
    if (elapsed > constraints.max_duration_minutes * 60_000) {
      return deny(
        'max_duration_minutes',
        `the session has run ${Math.floor(elapsed / 60_000)} minutes; its contract allows ${constraints.max_duration_minutes}`,
      );
    }
  }
  // The node's own MCP tool decides approvals too, under whatever name the agent gave the server.
  if (decidesApprovals(call.subject.command) || /^mcp__.+__console_approve_action$/.test(call.tool_name)) {
    return deny('self_approval', 'an agent may not approve or reject its own actions');
  }
  const file = call.subject.file_path;
  if (actions.includes('file_write') && file !== undefined) {
    if (constraints.sandbox_mode && !insideProject(file, project)) {
      return deny('sandbox_mode', `sandbox mode: ${file} is outside the project ${project}`);
    }
    const limit = constraints.max_files_modified;
    if (limit !== undefined && !session.modified_files.has(file) && session.modified_files.size >= limit) {
      return deny(
        'max_files_modified',
        `the session has modified ${session.modified_files.size} files; its contract allows ${limit}`,
      );
    }
  }
  for (const rule of constraints.require_approval_for) {
    if ((ACTION_TYPES as readonly string[]).includes(rule)) {
      if (actions.includes(rule as ActionType)) return { gate: 'approval', actions, rule, action_type: rule };
    } else if (patternMatches(rule, call.tool_name, call.subject)) {
      return { gate: 'approval', actions, rule, action_type: rule };
    }
  }
  if (constraints.sandbox_mode && actions.includes('bash_execute')) {
    return { gate: 'approval', actions, rule: 'sandbox_mode', action_type: 'bash_execute' };
  }
  return { gate: 'none', actions };
}

/**
 * OpenCode tool calls turned into Console events: the one event format every VaultMesh agent
 * adapter sends (src/core/console/events.ts in the VaultMesh repository, format 1). The node
 * validates strictly and rejects unknown fields, so these types list exactly what may be sent.
 */
import { resolve } from 'node:path';
import {
  fileHash,
  headCommit,
  jsonHash,
  runsGitCommit,
  sha256Of,
  toolKind,
  type CommitFacts,
  type ToolKind,
} from './facts.js';

export interface Subject {
  /** The shell command line of a bash call: the policy reads it, the receipt keeps its hash. */
  command?: string;
  /** The file a file tool reads or writes, as the agent named it. */
  file_path?: string;
}

export interface Counters {
  commands_executed: number;
  files_modified: number;
  tool_calls: number;
}

interface ToolFields {
  tool_use_id: string;
  tool_name: string;
  params_hash: string;
  subject: Subject;
}

interface AgentFields {
  task_hash?: string;
  subagent_type?: string;
}

/** An event without the fields every event carries (`Envelope`). */
export type EventBody =
  | { event: 'session_start'; source: string; model_id?: string }
  | { event: 'prompt'; prompt_hash: string; prompt_chars: number }
  | (ToolFields & AgentFields & { event: 'tool_pre'; file_hash?: string | null })
  | (ToolFields &
      AgentFields & {
        event: 'tool_post';
        result_hash: string;
        file_hash?: string | null;
        lines_changed?: number;
        exit_code?: number;
        git_commit?: CommitFacts;
      })
  | (ToolFields & { event: 'tool_failure'; error_hash: string; exit_code?: number })
  | { event: 'turn_end' }
  | { event: 'subagent_end'; agent_id: string }
  | { event: 'session_end'; reason: string; counters?: Counters };

export interface Envelope {
  v: 1;
  agent: 'opencode';
  session_id: string;
  /** This plugin's count of the events it tried to deliver for the session, from 1. */
  agent_seq: number;
  observed_at: string;
  cwd: string;
}

export type ConsoleEvent = Envelope & EventBody;

/** The node's answer to an event; only `tool_pre` can be denied. */
export interface EventDecision {
  decision: 'allow' | 'deny';
  reason?: string;
  action_id?: string;
  seqs: number[];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A tool call as announced in `tool.execute.before`, kept until its outcome is known. */
export interface Call {
  kind: ToolKind;
  args: Record<string, unknown>;
  fields: ToolFields;
  agent: AgentFields;
}

/** The arguments are hashed as OpenCode handed them over: that is what an approval is bound to. */
export function describeCall(callID: string, tool: string, args: unknown): Call {
  const kind = toolKind(tool);
  const record = isRecord(args) ? args : {};
  const subject: Subject = {
    ...(kind === 'bash' && typeof record.command === 'string' ? { command: record.command } : {}),
    ...(typeof record.filePath === 'string' ? { file_path: record.filePath } : {}),
  };
  const agent: AgentFields =
    kind === 'agent'
      ? {
          ...(typeof record.prompt === 'string' ? { task_hash: sha256Of(record.prompt) } : {}),
          ...(typeof record.subagent_type === 'string'
            ? { subagent_type: record.subagent_type.slice(0, 100) }
            : {}),
        }
      : {};
  return {
    kind,
    args: record,
    fields: { tool_use_id: callID, tool_name: tool, params_hash: jsonHash(args), subject },
    agent,
  };
}

/**
 * The file a file tool changes, when it names one (OpenCode's patch tool names its files inside
 * the patch, so a patch is recorded as a tool call): what the ledger counts as a modified file.
 */
export function editedFile(call: Call): string | undefined {
  return call.kind === 'file_edit' ? call.fields.subject.file_path : undefined;
}

export function preEvent(call: Call, cwd: string): EventBody {
  const file = editedFile(call);
  return {
    ...call.fields,
    event: 'tool_pre',
    ...(file === undefined ? {} : { file_hash: fileHash(file, cwd) }),
    ...call.agent,
  };
}

/** Lines of a text; a final newline ends the last line rather than starting another. */
function lineCount(text: unknown): number {
  if (typeof text !== 'string' || text === '') return 0;
  const lines = text.split('\n').length;
  return text.endsWith('\n') ? lines - 1 : lines;
}
const isCount = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;

/** Lines added and removed by OpenCode's own diff of the edit, else estimated from the arguments. */
function linesChanged(args: Record<string, unknown>, metadata: unknown): number {
  const diff = isRecord(metadata) ? metadata.filediff : undefined;
  if (isRecord(diff) && isCount(diff.additions) && isCount(diff.deletions)) {
    return diff.additions + diff.deletions;
  }
  if (Array.isArray(args.edits)) {
    return args.edits.reduce<number>(
      (n, edit) => n + (isRecord(edit) ? Math.max(lineCount(edit.oldString), lineCount(edit.newString)) : 0),
      0,
    );
  }
  if (typeof args.content === 'string') return lineCount(args.content);
  return Math.max(lineCount(args.oldString), lineCount(args.newString));
}

/** The bash tool reports its process's exit status as `metadata.exit` (null when it was killed). */
function exitCodeOf(metadata: unknown): number | undefined {
  const exit = isRecord(metadata) ? metadata.exit : undefined;
  return Number.isInteger(exit) ? (exit as number) : undefined;
}

/** Where a bash call ran: its `workdir` argument, resolved against the session's directory. */
function workdirOf(call: Call, cwd: string): string {
  return typeof call.args.workdir === 'string' ? resolve(cwd, call.args.workdir) : cwd;
}

export function postEvent(call: Call, result: { output: string; metadata: unknown }, cwd: string): EventBody {
  const file = editedFile(call);
  const exitCode = exitCodeOf(result.metadata);
  const command = call.fields.subject.command;
  const committed =
    command !== undefined && runsGitCommit(command) && (exitCode ?? 0) === 0
      ? headCommit(workdirOf(call, cwd))
      : undefined;
  return {
    ...call.fields,
    event: 'tool_post',
    result_hash: sha256Of(result.output),
    ...(file === undefined
      ? {}
      : { file_hash: fileHash(file, cwd), lines_changed: linesChanged(call.args, result.metadata) }),
    ...(exitCode === undefined ? {} : { exit_code: exitCode }),
    ...(committed === undefined ? {} : { git_commit: committed }),
    ...call.agent,
  };
}

export function failureEvent(call: Call, error: string, metadata: unknown): EventBody {
  const exitCode = exitCodeOf(metadata);
  return {
    ...call.fields,
    event: 'tool_failure',
    error_hash: sha256Of(error),
    ...(exitCode === undefined ? {} : { exit_code: exitCode }),
  };
}

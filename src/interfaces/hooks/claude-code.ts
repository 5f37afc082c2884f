/**
 * Claude Code's hook events (its hooks reference: JSON on stdin with `session_id`,
 * `transcript_path`, `cwd`, `permission_mode`, `hook_event_name` and per-event fields) turned
 * into Console events, and the engine's answer turned into Claude Code's decision output.
 * Validation is written out by hand: this module runs in a fresh process for every tool call.
 */
import type { ConsoleEvent } from '../../core/console/events.js';
import { CLAUDE_CODE_EVENTS, type ClaudeCodeEvent } from '../../core/console/claude-code.js';
import { classify, toolKind } from '../../core/console/shell.js';
import { fileHash, headCommit, jsonHash, sha256Of } from './local-facts.js';

/** A hook payload that cannot be read; the message names the field. */
export class HookInputError extends Error {}

type Json = Record<string, unknown>;

function field<T>(
  input: Json,
  name: string,
  kind: 'string' | 'object' | 'boolean',
  optional = false,
): T | undefined {
  const value = input[name];
  if (value === undefined || value === null) {
    if (optional) return undefined;
    throw new HookInputError(`${name} is missing`);
  }
  if (kind === 'object' ? typeof value !== 'object' || Array.isArray(value) : typeof value !== kind) {
    throw new HookInputError(
      `${name} must be ${kind === 'object' ? 'an object' : `a ${kind}`}, got ${JSON.stringify(value).slice(0, 40)}`,
    );
  }
  return value as T;
}

const SESSION_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Lines added or removed according to Claude Code's `structuredPatch`, else estimated from the input. */
function linesChanged(toolInput: Json, toolResponse: unknown): number {
  const patch = (toolResponse as Json | undefined)?.structuredPatch;
  // A file Write created comes with an empty patch: its content is what changed.
  if (Array.isArray(patch) && (patch.length > 0 || (toolResponse as Json).type !== 'create')) {
    let count = 0;
    for (const hunk of patch as Array<{ lines?: unknown }>) {
      if (Array.isArray(hunk.lines))
        count += hunk.lines.filter((l) => typeof l === 'string' && /^[+-]/.test(l)).length;
    }
    return count;
  }
  const lines = (text: unknown) =>
    typeof text === 'string' && text !== '' ? text.split('\n').length - (text.endsWith('\n') ? 1 : 0) : 0;
  if (Array.isArray(toolInput.edits)) {
    return (toolInput.edits as Json[]).reduce(
      (n, e) => n + Math.max(lines(e.old_string), lines(e.new_string)),
      0,
    );
  }
  if (typeof toolInput.content === 'string') return lines(toolInput.content);
  return Math.max(lines(toolInput.old_string), lines(toolInput.new_string), lines(toolInput.new_source));
}

function exitCodeOf(response: unknown, error?: string): number | undefined {
  const r = response as Json | undefined;
  for (const key of ['exit_code', 'exitCode', 'returnCode']) {
    if (typeof r?.[key] === 'number' && Number.isInteger(r[key])) return r[key] as number;
  }
  const match = error === undefined ? null : /exit code (\d+)/i.exec(error);
  return match === null ? undefined : Number(match[1]);
}

/**
 * The Console event for one Claude Code hook payload, with the facts only this machine can see.
 * @throws HookInputError naming the field that is missing or malformed.
 */
export function toConsoleEvent(input: unknown, options: { now: Date; storeContent: boolean }): ConsoleEvent {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new HookInputError('the hook payload must be a JSON object');
  }
  const payload = input as Json;
  const name = field<string>(payload, 'hook_event_name', 'string')!;
  if (!(CLAUDE_CODE_EVENTS as readonly string[]).includes(name)) {
    throw new HookInputError(`hook_event_name "${name}" is not one of ${CLAUDE_CODE_EVENTS.join(', ')}`);
  }
  const sessionId = field<string>(payload, 'session_id', 'string')!;
  if (!SESSION_RE.test(sessionId))
    throw new HookInputError(`session_id "${sessionId.slice(0, 40)}" is not a valid session id`);
  const cwd = field<string>(payload, 'cwd', 'string', true);
  const common = {
    v: 1 as const,
    agent: 'claude-code',
    session_id: sessionId,
    observed_at: options.now.toISOString(),
    ...(cwd === undefined ? {} : { cwd }),
  };
  switch (name as ClaudeCodeEvent) {
    case 'SessionStart': {
      const source = field<string>(payload, 'source', 'string', true);
      const model = payload.model;
      const modelId =
        typeof model === 'string'
          ? model
          : typeof (model as Json | undefined)?.id === 'string'
            ? ((model as Json).id as string)
            : undefined;
      const agentType = field<string>(payload, 'agent_type', 'string', true);
      return {
        ...common,
        event: 'session_start',
        ...(source === undefined ? {} : { source: source.slice(0, 64) }),
        ...(modelId === undefined ? {} : { model_id: modelId.slice(0, 200) }),
        ...(agentType === undefined ? {} : { agent_type: agentType.slice(0, 100) }),
      };
    }
    case 'UserPromptSubmit': {
      const prompt = field<string>(payload, 'prompt', 'string')!;
      return {
        ...common,
        event: 'prompt',
        prompt_hash: sha256Of(prompt),
        prompt_chars: prompt.length,
        ...(options.storeContent ? { prompt: prompt.slice(0, 64 * 1024) } : {}),
      };
    }
    case 'PreToolUse':
    case 'PostToolUse':
    case 'PostToolUseFailure':
      return toolEvent(name as 'PreToolUse' | 'PostToolUse' | 'PostToolUseFailure', payload, common, cwd);
    case 'Stop': {
      const message = field<string>(payload, 'last_assistant_message', 'string', true);
      return {
        ...common,
        event: 'turn_end',
        ...(message === undefined ? {} : { message_hash: sha256Of(message) }),
      };
    }
    case 'SubagentStop': {
      const message = field<string>(payload, 'last_assistant_message', 'string', true);
      const agentId = field<string>(payload, 'agent_id', 'string', true);
      const agentType = field<string>(payload, 'agent_type', 'string', true);
      return {
        ...common,
        event: 'subagent_end',
        ...(agentId === undefined ? {} : { agent_id: agentId.slice(0, 200) }),
        ...(agentType === undefined ? {} : { agent_type: agentType.slice(0, 100) }),
        ...(message === undefined ? {} : { message_hash: sha256Of(message) }),
      };
    }
    case 'SessionEnd':
      return {
        ...common,
        event: 'session_end',
        reason: (field<string>(payload, 'reason', 'string', true) ?? 'other').slice(0, 200),
      };
  }
}

function toolEvent(
  name: 'PreToolUse' | 'PostToolUse' | 'PostToolUseFailure',
  payload: Json,
  common: Omit<ConsoleEvent, 'event'> & { cwd?: string },
  cwd: string | undefined,
): ConsoleEvent {
  const toolName = field<string>(payload, 'tool_name', 'string')!;
  const toolInput = field<Json>(payload, 'tool_input', 'object')!;
  const paramsHash = jsonHash(toolInput);
  // Older Claude Code releases send no tool_use_id; the call's own content then pairs Pre with Post.
  const toolUseId =
    field<string>(payload, 'tool_use_id', 'string', true) ??
    `h-${jsonHash({ tool: toolName, input: toolInput }).slice(7, 39)}`;
  const kind = toolKind(toolName);
  const filePath =
    typeof toolInput.file_path === 'string'
      ? toolInput.file_path
      : typeof toolInput.notebook_path === 'string'
        ? toolInput.notebook_path
        : undefined;
  const subject = {
    ...(kind === 'bash' && typeof toolInput.command === 'string' ? { command: toolInput.command } : {}),
    ...(filePath === undefined ? {} : { file_path: filePath }),
  };
  const tool = { ...common, tool_use_id: toolUseId, tool_name: toolName, params_hash: paramsHash, subject };
  const agentFields =
    kind === 'agent'
      ? {
          ...(typeof toolInput.prompt === 'string' ? { task_hash: sha256Of(toolInput.prompt) } : {}),
          ...(typeof toolInput.subagent_type === 'string'
            ? { subagent_type: toolInput.subagent_type.slice(0, 100) }
            : {}),
        }
      : {};
  if (name === 'PreToolUse') {
    return {
      ...tool,
      event: 'tool_pre',
      ...(kind === 'file_edit' && filePath !== undefined ? { file_hash: fileHash(filePath, cwd) } : {}),
      ...agentFields,
    };
  }
  if (name === 'PostToolUseFailure') {
    const error = field<string>(payload, 'error', 'string', true) ?? '';
    const code = exitCodeOf(undefined, error);
    return {
      ...tool,
      event: 'tool_failure',
      error_hash: sha256Of(error),
      ...(code === undefined ? {} : { exit_code: code }),
      ...(payload.is_interrupt === true ? { interrupted: true } : {}),
    };
  }
  const response = payload.tool_response;
  const code = exitCodeOf(response);
  const commit =
    kind === 'bash' && classify(toolName, subject).includes('git_commit') ? headCommit(cwd) : undefined;
  return {
    ...tool,
    event: 'tool_post',
    result_hash: jsonHash(response),
    ...(kind === 'file_edit' && filePath !== undefined
      ? { file_hash: fileHash(filePath, cwd), lines_changed: linesChanged(toolInput, response) }
      : {}),
    ...(code === undefined ? {} : { exit_code: code }),
    ...((response as Json | undefined)?.interrupted === true ? { interrupted: true } : {}),
    ...(commit === undefined ? {} : { git_commit: commit }),
    ...agentFields,
  };
}

/** Claude Code's documented PreToolUse answer that refuses a call, with the reason Claude is shown. */
export function denyOutput(reason: string): string {
  return JSON.stringify({
    hookSpecificOutput: {
      hookEventName: 'PreToolUse',
      permissionDecision: 'deny',
      permissionDecisionReason: reason,
    },
  });
}

/**
 * The one event format every agent adapter sends to the Console engine: the Claude Code hook
 * (`vm console hook`) and the OpenCode plugin translate their agent's own events into this shape,
 * hashing raw content on the agent's machine, and the engine turns each event into receipts.
 * Content crosses only as hashes unless the operator asked for it to be stored
 * (`[console] store_content`); a shell command line crosses because policy needs to read it.
 */
import { z } from 'zod';
import { hashRef } from '../scrolls/define.js';

const EVENT_FORMAT_VERSION = 1;

const sessionId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'letters, digits and . _ : - (up to 128 characters)');
const toolUseId = z.string().min(1).max(200);
const toolName = z.string().min(1).max(200);
const text = (max: number) => z.string().max(max);

/** What a tool acts on, as far as policy needs to see it. */
const subjectSchema = z.strictObject({
  /** A shell command line (Bash tools): policy reads it; the receipt keeps its hash. */
  command: text(1024 * 1024).optional(),
  /** The file a file tool reads or writes, absolute or relative to `cwd`. */
  file_path: text(4096).optional(),
});
export type ToolSubject = z.infer<typeof subjectSchema>;

const gitCommitSchema = z.strictObject({
  commit_hash: z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'a 40- or 64-digit git object id'),
  files_changed: z.number().int().nonnegative(),
  message_hash: hashRef,
  signed: z.boolean(),
});

const common = {
  v: z.literal(EVENT_FORMAT_VERSION),
  /** The adapter that produced the event: `claude-code`, `opencode`, ... */
  agent: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'lower-case letters, digits and - (e.g. claude-code)'),
  session_id: sessionId,
  /**
   * The adapter's own count of events it tried to deliver for this session, from 1. A number the
   * ledger never sees is an event that was lost between the agent and the ledger.
   */
  agent_seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  /** When the agent side saw the event (its clock), for durations. */
  observed_at: z.iso.datetime({ offset: true }),
  cwd: text(4096).optional(),
};

const toolCommon = {
  tool_use_id: toolUseId,
  tool_name: toolName,
  /** Hash of the JCS of the tool's arguments: what an approval is bound to. */
  params_hash: hashRef,
  subject: subjectSchema.prefault({}),
};

export const consoleEventSchema = z.discriminatedUnion('event', [
  z.strictObject({
    ...common,
    event: z.literal('session_start'),
    source: text(64).optional(),
    model_id: text(200).optional(),
    agent_type: text(100).optional(),
  }),
  z.strictObject({
    ...common,
    event: z.literal('prompt'),
    prompt_hash: hashRef,
    prompt_chars: z.number().int().nonnegative(),
    /** Present only when the adapter was told to store content. */
    prompt: text(64 * 1024).optional(),
  }),
  z.strictObject({
    ...common,
    ...toolCommon,
    event: z.literal('tool_pre'),
    /** The file's hash before the call (null: it does not exist yet), for file tools. */
    file_hash: hashRef.nullable().optional(),
    /** Hash of a sub-agent's task prompt, for tools that start one. */
    task_hash: hashRef.optional(),
    subagent_type: text(100).optional(),
  }),
  z.strictObject({
    ...common,
    ...toolCommon,
    event: z.literal('tool_post'),
    result_hash: hashRef,
    file_hash: hashRef.nullable().optional(),
    lines_changed: z.number().int().nonnegative().optional(),
    exit_code: z.number().int().optional(),
    interrupted: z.boolean().optional(),
    git_commit: gitCommitSchema.optional(),
    task_hash: hashRef.optional(),
    subagent_type: text(100).optional(),
  }),
  z.strictObject({
    ...common,
    ...toolCommon,
    event: z.literal('tool_failure'),
    error_hash: hashRef,
    exit_code: z.number().int().optional(),
    interrupted: z.boolean().optional(),
  }),
  z.strictObject({
    ...common,
    event: z.literal('turn_end'),
    message_hash: hashRef.optional(),
  }),
  z.strictObject({
    ...common,
    event: z.literal('subagent_end'),
    agent_id: text(200).optional(),
    agent_type: text(100).optional(),
    message_hash: hashRef.optional(),
  }),
  z.strictObject({
    ...common,
    event: z.literal('session_end'),
    reason: text(200),
    /** The agent's own tallies, when it keeps them; the audit compares them with the ledger's. */
    counters: z
      .strictObject({
        commands_executed: z.number().int().nonnegative(),
        files_modified: z.number().int().nonnegative(),
        tool_calls: z.number().int().nonnegative(),
      })
      .optional(),
  }),
]);
export type ConsoleEvent = z.infer<typeof consoleEventSchema>;
export type ToolEvent = Extract<ConsoleEvent, { event: 'tool_pre' | 'tool_post' | 'tool_failure' }>;

/** What the engine answers an adapter; only `tool_pre` can be denied. */
export interface EventDecision {
  decision: 'allow' | 'deny';
  reason?: string;
  /** Set when the call needed an approval: the id a person approves or rejects. */
  action_id?: string;
  /** Seqs of the receipts the event became. */
  seqs: number[];
}

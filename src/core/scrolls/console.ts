import { z } from 'zod';
import { bodyWith, count, defineScroll, hashRef, identifier } from './define.js';

const actionId = z.string().regex(/^act-[0-9a-f]{16}$/, 'expected act-<16 hex>');

export const consoleScroll = defineScroll({
  name: 'console',
  title: 'Console',
  engineId: 'engine:console',
  description: 'AI coding-agent sessions: commands, file edits, tool calls, approvals, commits, sub-agents.',
  file: 'receipts/console/console_events.jsonl',
  rootFile: 'receipts/console/ROOT.console.txt',
  types: [
    {
      type: 'console_genesis',
      description: 'Engine initialization marker.',
      body: bodyWith({ note: z.string() }),
    },
    {
      type: 'console_session_start',
      description: 'An agent session started.',
      body: bodyWith({
        agent_type: z.string().min(1),
        model_id: z.string().optional(),
        caller: z.string().min(1),
        project_path: z.string(),
      }),
      // The contract in it binds the session: only the engine writes one, never a generic append.
      reserved: 'written by the Console engine: an agent event (POST /v1/console/events) or vm console spawn',
    },
    {
      type: 'console_session_end',
      description: 'An agent session ended.',
      body: bodyWith({
        duration_ms: count,
        commands_executed: count,
        files_modified: count,
        exit_reason: z.string(),
      }),
    },
    {
      type: 'console_command',
      description: 'A command executed by the agent.',
      body: bodyWith({
        command: z.string().min(1),
        args_hash: hashRef,
        exit_code: z.number().int(),
        /** From the call's announcement to its outcome, by the agent's clock; null when the announcement is missing. */
        duration_ms: count.nullable(),
      }),
    },
    {
      type: 'console_file_edit',
      description: 'A file modified by the agent.',
      body: bodyWith({
        file_path: z.string().min(1),
        old_hash: hashRef.nullable(),
        new_hash: hashRef.nullable(),
        edit_type: z.string().min(1),
        lines_changed: count,
      }),
    },
    {
      type: 'console_tool_call',
      description: 'A tool invoked by the agent.',
      body: bodyWith({
        tool_name: z.string().min(1),
        params_hash: hashRef,
        result_hash: hashRef.nullable(),
        capability_used: z.string().optional(),
        /** `pre`: the call as the agent asked for it, with the policy's gate; `post`/`failure`: its outcome. */
        phase: z.enum(['pre', 'post', 'failure']).optional(),
        tool_use_id: z.string().min(1).optional(),
        action_id: actionId.optional(),
        gate: z.enum(['none', 'policy', 'approval']).optional(),
      }),
    },
    {
      type: 'console_approval',
      description: 'A human (or policy) decision on an agent action.',
      body: bodyWith({
        action_type: z.string().min(1),
        approved: z.boolean(),
        approver: z.string().min(1),
        reason: z.string(),
        /** What the decision is bound to: this call, these arguments, this policy. */
        action_id: actionId.optional(),
        tool_name: z.string().min(1).optional(),
        args_hash: hashRef.optional(),
        policy_hash: hashRef.optional(),
        decided_by: z.enum(['person', 'policy', 'timeout']).optional(),
      }),
      reserved: 'written only by vm console approve|reject, the approvals API and the policy itself',
    },
    {
      type: 'console_git_commit',
      description: 'A git commit created by the agent.',
      body: bodyWith({
        commit_hash: z
          .string()
          .regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'expected a 40- or 64-digit git object id'),
        files_changed: count,
        message_hash: hashRef,
        signed: z.boolean(),
      }),
    },
    {
      type: 'console_prompt',
      description: 'A prompt given to the agent (its hash; the text only when content is stored).',
      body: bodyWith({ prompt_hash: hashRef, prompt_chars: count }),
    },
    {
      type: 'console_turn_end',
      description: 'The agent (or one of its sub-agents) finished responding.',
      body: bodyWith({ subagent: z.boolean(), message_hash: hashRef.nullable() }),
    },
    {
      type: 'console_agent_spawn',
      description: 'A sub-agent was spawned.',
      body: bodyWith({
        parent_session_id: identifier,
        child_session_id: identifier,
        agent_type: z.string().min(1),
        task_hash: hashRef,
      }),
    },
  ],
});

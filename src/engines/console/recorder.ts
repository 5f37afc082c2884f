/**
 * The Console engine's intake: one agent event in, its receipts out, and for a call about to run,
 * the policy's answer. Events of one session are handled one at a time (so two parallel calls
 * cannot both take the last file a contract allows); a call held for approval waits outside that
 * queue, so the session's other events keep flowing.
 */
import { canonicalJson, type JsonObject } from '../../core/canonical.js';
import type { ConsoleEvent, EventDecision, ToolEvent } from '../../core/console/events.js';
import {
  evaluatePre,
  sessionContractSchema,
  type Constraints,
  type SessionContract,
} from '../../core/console/policy.js';
import { capabilityOf, classify, commandName, toolKind } from '../../core/console/shell.js';
import { SessionFold, type SessionState } from '../../core/console/session.js';
import { blake3Tagged } from '../../core/hash.js';
import { validateDraft, type Receipt, type ReceiptDraft } from '../../core/receipt.js';
import type { Ledger } from '../../ledger/ledger.js';
import { approvalDraft, awaitDecision, type Binding } from './approvals.js';
import { consoleConfig, type ConsoleConfig } from './config.js';
import { CONSOLE } from './sessions.js';

const MAX_FOLDED_SESSIONS = 1000;

const GENESIS_NOTE = 'Console scroll opened: AI coding-agent sessions are receipted from here on';

export interface RecorderOptions {
  clock?: () => Date;
  /** The DID of whoever's credential delivered the event, when there is one. */
  caller?: string;
  signal?: AbortSignal;
}

/** One call with these arguments: the same tool-use id sent again with other arguments is another action. */
function actionIdOf(sessionId: string, toolUseId: string, paramsHash: string): string {
  const key = { session_id: sessionId, tool_use_id: toolUseId, params_hash: paramsHash };
  return `act-${blake3Tagged(canonicalJson(key)).slice(7, 23)}`;
}

function policyHash(constraints: Constraints): string {
  return blake3Tagged(canonicalJson(constraints as unknown as JsonObject));
}

/** A contract for a session that no `vm console spawn` announced: the configured defaults. */
function defaultContract(
  config: ConsoleConfig,
  fields: {
    session_id: string;
    agent_type: string;
    model_id?: string;
    caller: string;
    project_path: string;
    created_at: string;
  },
): SessionContract {
  return sessionContractSchema.parse({
    contract_type: 'console_session',
    ...fields,
    capabilities_requested: ['file_read', 'file_write', 'bash_execute', 'git_commit', 'mcp_call'],
    constraints: config.constraints,
  });
}

export class ConsoleRecorder {
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Sessions folded so far, least recently used first: each event reads only what is new. */
  private readonly folds = new Map<string, SessionFold>();
  private readonly clock: () => Date;
  private readonly config: ConsoleConfig;

  constructor(
    private readonly ledger: Ledger,
    clock?: () => Date,
  ) {
    this.clock = clock ?? (() => new Date());
    this.config = consoleConfig(ledger);
  }

  /** Records one event; for `tool_pre`, answers whether the call may run (waiting for a person if it must). */
  async record(event: ConsoleEvent, options: RecorderOptions = {}): Promise<EventDecision> {
    await this.genesis();
    const held = await this.serialized(event.session_id, () => this.intake(event, options));
    if (held.wait === undefined) return held.decision;
    const { binding, actionType, deadline } = held.wait;
    const decision = await awaitDecision(
      this.ledger,
      binding,
      actionType,
      deadline,
      this.ledger.identity.did,
      options.signal,
    );
    const approved = decision.body.approved === true;
    return {
      decision: approved ? 'allow' : 'deny',
      reason: `${approved ? 'approved' : 'denied'} by ${String(decision.body.approver)} (${String(decision.body.decided_by)}): ${String(decision.body.reason)}`,
      action_id: binding.action_id,
      seqs: [...held.decision.seqs, decision.seq],
    };
  }

  private async genesis(): Promise<void> {
    const log = await this.ledger.writer(CONSOLE);
    if (log.size > 0) return;
    await log.appendIfEmpty([
      validateDraft({
        scroll: CONSOLE,
        type: 'console_genesis',
        body: { note: GENESIS_NOTE },
        tags: ['console', 'genesis'],
      }),
    ]);
  }

  /** The session brought up to the scroll: receipts other processes appended are taken in too. */
  private sessionFold(sessionId: string): SessionFold {
    const fold = this.folds.get(sessionId) ?? new SessionFold();
    this.folds.delete(sessionId);
    this.folds.set(sessionId, fold);
    if (this.folds.size > MAX_FOLDED_SESSIONS) this.folds.delete(this.folds.keys().next().value!);
    return fold.add(
      this.ledger.query(CONSOLE, {
        session: sessionId,
        afterSeq: fold.lastSeq,
        limit: Number.MAX_SAFE_INTEGER,
      }),
    );
  }

  private serialized<T>(session: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(session) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.queues.set(session, settled);
    void settled.then(() => {
      if (this.queues.get(session) === settled) this.queues.delete(session);
    });
    return next;
  }

  private async intake(
    event: ConsoleEvent,
    options: RecorderOptions,
  ): Promise<{ decision: EventDecision; wait?: { binding: Binding; actionType: string; deadline: number } }> {
    const now = this.clock();
    const fold = this.sessionFold(event.session_id);
    const state = fold.lastSeq < 0 ? undefined : fold.state(now);
    const contract = state?.contract ?? this.implicitContract(event, options, now);
    const base = {
      observed_at: event.observed_at,
      ...(event.agent_seq === undefined ? {} : { agent_seq: event.agent_seq }),
    };
    const draft = (type: string, body: Record<string, unknown>, extraTags: string[] = []): ReceiptDraft => ({
      scroll: CONSOLE,
      type,
      session_id: event.session_id,
      tags: ['console', event.agent, ...extraTags],
      body: { ...body, ...base },
    });
    const emit = async (drafts: ReceiptDraft[]) => (await this.ledger.emit(drafts)).map((a) => a.receipt.seq);
    const allow = (seqs: number[]): { decision: EventDecision } => ({
      decision: { decision: 'allow', seqs },
    });

    switch (event.event) {
      case 'session_start':
        return allow(
          await emit([
            draft('console_session_start', {
              agent_type: contract.agent_type,
              ...(event.model_id === undefined ? {} : { model_id: event.model_id }),
              caller: contract.caller,
              project_path: event.cwd ?? contract.project_path,
              source: event.source ?? 'startup',
              ...(event.agent_type === undefined ? {} : { agent_name: event.agent_type }),
              contract: contract as unknown as JsonObject,
            }),
          ]),
        );
      case 'prompt':
        return allow(
          await emit([
            draft('console_prompt', {
              prompt_hash: event.prompt_hash,
              prompt_chars: event.prompt_chars,
              ...(this.config.store_content && event.prompt !== undefined ? { prompt: event.prompt } : {}),
            }),
          ]),
        );
      case 'tool_pre':
        return this.pre(event, fold.modifiedFiles, state, contract, draft, emit, now);
      case 'tool_post':
      case 'tool_failure':
        return allow(await emit(this.outcome(event, draft)));
      case 'turn_end':
        return allow(
          await emit([
            draft('console_turn_end', { subagent: false, message_hash: event.message_hash ?? null }),
          ]),
        );
      case 'subagent_end':
        return allow(
          await emit([
            draft('console_turn_end', {
              subagent: true,
              message_hash: event.message_hash ?? null,
              ...(event.agent_id === undefined ? {} : { agent_id: event.agent_id }),
              ...(event.agent_type === undefined ? {} : { agent_type: event.agent_type }),
            }),
          ]),
        );
      case 'session_end': {
        const current = state;
        return allow(
          await emit([
            draft('console_session_end', {
              duration_ms:
                current === undefined ? 0 : Math.max(0, now.getTime() - Date.parse(current.started_at)),
              commands_executed: current?.commands_executed ?? 0,
              files_modified: current?.files_modified ?? 0,
              exit_reason: event.reason,
              ...(event.counters === undefined ? {} : { agent_counters: event.counters }),
            }),
          ]),
        );
      }
    }
  }

  private implicitContract(event: ConsoleEvent, options: RecorderOptions, now: Date): SessionContract {
    return defaultContract(this.config, {
      session_id: event.session_id,
      agent_type: event.agent,
      ...(event.event === 'session_start' && event.model_id !== undefined
        ? { model_id: event.model_id }
        : {}),
      caller: options.caller ?? this.ledger.identity.did,
      project_path: event.cwd ?? '',
      created_at: now.toISOString(),
    });
  }

  private async pre(
    event: Extract<ConsoleEvent, { event: 'tool_pre' }>,
    modified: ReadonlySet<string>,
    state: SessionState | undefined,
    contract: SessionContract,
    draft: (type: string, body: Record<string, unknown>, tags?: string[]) => ReceiptDraft,
    emit: (drafts: ReceiptDraft[]) => Promise<number[]>,
    now: Date,
  ) {
    const verdict = evaluatePre(
      {
        status: state?.status ?? 'active',
        started_at: state?.started_at ?? now.toISOString(),
        modified_files: modified,
        contract,
      },
      event,
      now,
    );
    const actionId = actionIdOf(event.session_id, event.tool_use_id, event.params_hash);
    const binding: Binding = {
      session_id: event.session_id,
      action_id: actionId,
      tool_name: event.tool_name,
      args_hash: event.params_hash,
      policy_hash: policyHash(contract.constraints),
    };
    const kind = toolKind(event.tool_name);
    const body: Record<string, unknown> = {
      tool_name: event.tool_name,
      params_hash: event.params_hash,
      result_hash: null,
      capability_used: capabilityOf(kind, verdict.actions),
      phase: 'pre',
      tool_use_id: event.tool_use_id,
      tool_kind: kind,
      action_types: verdict.actions,
      gate: verdict.gate,
      ...this.subjectFields(event),
      ...(event.file_hash === undefined ? {} : { file_hash: event.file_hash }),
      ...(event.task_hash === undefined ? {} : { task_hash: event.task_hash }),
    };
    if (verdict.gate === 'none')
      return {
        decision: { decision: 'allow' as const, seqs: await emit([draft('console_tool_call', body)]) },
      };
    if (verdict.gate === 'policy') {
      const seqs = await emit([
        draft('console_tool_call', {
          ...body,
          action_id: actionId,
          rule: verdict.rule,
          reason: verdict.reason,
        }),
        approvalDraft(binding, verdict.actions[0] ?? kind, {
          approved: false,
          approver: this.ledger.identity.did,
          reason: `${verdict.rule}: ${verdict.reason}`,
          decided_by: 'policy',
        }),
      ]);
      return {
        decision: {
          decision: 'deny' as const,
          reason: `VaultMesh policy (${verdict.rule}): ${verdict.reason}`,
          action_id: actionId,
          seqs,
        },
      };
    }
    const timeoutMs = contract.constraints.approval_timeout_seconds * 1000;
    const seqs = await emit([
      draft(
        'console_tool_call',
        {
          ...body,
          action_id: actionId,
          action_type: verdict.action_type,
          rule: verdict.rule,
          policy_hash: binding.policy_hash,
          expires_at: new Date(now.getTime() + timeoutMs).toISOString(),
        },
        ['approval-requested'],
      ),
    ]);
    return {
      decision: { decision: 'deny' as const, action_id: actionId, seqs },
      wait: { binding, actionType: verdict.action_type, deadline: Date.now() + timeoutMs },
    };
  }

  /** Command lines are hashed; kept in full only when the operator stores content. */
  private subjectFields(event: ToolEvent): Record<string, unknown> {
    const { command, file_path: filePath } = event.subject;
    return {
      ...(filePath === undefined ? {} : { file_path: filePath }),
      ...(command === undefined
        ? {}
        : {
            command: commandName(command),
            args_hash: blake3Tagged(command),
            ...(this.config.store_content ? { command_line: command } : {}),
          }),
    };
  }

  private preOf(event: ToolEvent): Receipt | undefined {
    return this.ledger
      .query(CONSOLE, {
        session: event.session_id,
        types: ['console_tool_call'],
        where: [{ path: 'tool_use_id', value: event.tool_use_id, text: event.tool_use_id }],
        limit: 10,
      })
      .find((r) => r.body.phase === 'pre' && r.body.params_hash === event.params_hash);
  }

  private outcome(
    event: Extract<ConsoleEvent, { event: 'tool_post' | 'tool_failure' }>,
    draft: (type: string, body: Record<string, unknown>, tags?: string[]) => ReceiptDraft,
  ): ReceiptDraft[] {
    const pre = this.preOf(event);
    const kind = toolKind(event.tool_name);
    const failed = event.event === 'tool_failure';
    const resultHash = failed ? event.error_hash : event.result_hash;
    const common = {
      tool_use_id: event.tool_use_id,
      params_hash: event.params_hash,
      ...(failed ? { failed: true } : {}),
    };
    const duration =
      pre === undefined
        ? null
        : Math.max(0, Date.parse(event.observed_at) - Date.parse(String(pre.body.observed_at)));
    if (kind === 'bash') {
      const command = event.subject.command ?? '';
      const drafts = [
        draft('console_command', {
          ...this.subjectFields(event),
          command: commandName(command),
          args_hash: blake3Tagged(command),
          exit_code: event.exit_code ?? (failed ? 1 : event.interrupted === true ? 130 : 0),
          duration_ms: duration,
          result_hash: resultHash,
          ...(event.interrupted === true ? { interrupted: true } : {}),
          ...common,
        }),
      ];
      if (!failed && event.git_commit !== undefined) {
        drafts.push(
          draft('console_git_commit', { ...event.git_commit, tool_use_id: event.tool_use_id }, ['git']),
        );
      }
      return drafts;
    }
    if (kind === 'file_edit' && !failed && event.subject.file_path !== undefined) {
      const before = (pre?.body.file_hash as string | null | undefined) ?? null;
      const after = event.file_hash ?? null;
      return [
        draft('console_file_edit', {
          file_path: event.subject.file_path,
          old_hash: before,
          new_hash: after,
          edit_type: after === null ? 'delete' : before === null && pre !== undefined ? 'create' : 'modify',
          lines_changed: event.lines_changed ?? 0,
          tool_name: event.tool_name,
          ...common,
        }),
      ];
    }
    if (kind === 'agent' && !failed) {
      const taskHash = event.task_hash ?? (pre?.body.task_hash as string | undefined) ?? event.params_hash;
      return [
        draft('console_agent_spawn', {
          parent_session_id: event.session_id,
          child_session_id: `${event.session_id}:${event.tool_use_id}`.slice(0, 256),
          agent_type: event.subagent_type ?? 'subagent',
          task_hash: taskHash,
          result_hash: resultHash,
          ...common,
        }),
      ];
    }
    return [
      draft('console_tool_call', {
        tool_name: event.tool_name,
        result_hash: resultHash,
        capability_used: capabilityOf(kind, classify(event.tool_name, event.subject)),
        phase: failed ? 'failure' : 'post',
        tool_kind: kind,
        duration_ms: duration,
        ...this.subjectFields(event),
        ...common,
      }),
    ];
  }
}

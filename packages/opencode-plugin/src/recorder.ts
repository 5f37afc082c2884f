/**
 * OpenCode's hooks and bus events turned into Console events for the node. A call about to run
 * waits for the node's decision and is refused without one (fail closed); everything else is
 * recorded on a best-effort basis and a failure is only logged (fail open), because a ledger that
 * cannot be reached must not stop the agent's work, only the work the policy must first see.
 */
import {
  describeCall,
  editedFile,
  failureEvent,
  isRecord,
  postEvent,
  preEvent,
  type Call,
  type EventBody,
  type EventDecision,
} from './events.js';
import { sha256Of } from './facts.js';
import { deliver, type NodeAddress } from './node-client.js';
import type { BusEvent, ChatMessageInput, Part, ToolCall, ToolResult } from './opencode.js';
import type { SessionBook, SessionRecord } from './sessions.js';

/**
 * How long a call waits for the node's answer. The node may hold a call for a person's approval
 * (120 s unless the contract says otherwise) and then answers itself, so this only has to outlast that.
 */
export const GATE_TIMEOUT_MS = 150_000;
const NOTIFY_TIMEOUT_MS = 5_000;

export function logFailure(what: string, error: unknown): void {
  console.error(`vaultmesh: ${what}: ${error instanceof Error ? error.message : String(error)}`);
}

/** What the user typed: the text parts OpenCode did not add itself (file contents, reminders). */
function promptText(parts: readonly Part[]): string {
  return parts
    .filter((p) => p.type === 'text' && typeof p.text === 'string' && p.synthetic !== true)
    .map((p) => p.text as string)
    .join('\n');
}

function modelOf(input: ChatMessageInput, message: unknown): string | undefined {
  const model = input.model ?? (isRecord(message) && isRecord(message.model) ? message.model : undefined);
  if (typeof model?.providerID !== 'string' || typeof model.modelID !== 'string') return undefined;
  return `${model.providerID}/${model.modelID}`.slice(0, 200);
}

export class ConsoleRecorder {
  constructor(
    private readonly node: NodeAddress,
    /** OpenCode's project directory: the `cwd` of every event, and what relative paths resolve against. */
    private readonly cwd: string,
    private readonly book: SessionBook,
  ) {}

  async onEvent(event: BusEvent): Promise<void> {
    const properties = isRecord(event.properties) ? event.properties : {};
    const info = isRecord(properties.info) ? properties.info : {};
    switch (event.type) {
      case 'session.created':
        if (typeof info.id === 'string') {
          this.book.created(
            info.id,
            typeof info.parentID === 'string' ? info.parentID : undefined,
            new Date(),
          );
        }
        return;
      case 'session.idle':
        if (typeof properties.sessionID === 'string') await this.idle(properties.sessionID);
        return;
      case 'session.deleted':
        if (typeof info.id === 'string') await this.deleted(info.id);
        return;
      case 'message.part.updated':
        if (isRecord(properties.part)) await this.toolPartUpdated(properties.part);
        return;
    }
  }

  async prompt(input: ChatMessageInput, output: { message: unknown; parts: Part[] }): Promise<void> {
    // A sub-agent's task arrives as the prompt of its session; the task call already carries its hash.
    if (this.book.isSubagent(input.sessionID)) return;
    const observedAt = new Date();
    const record = this.book.record(input.sessionID);
    const text = promptText(output.parts);
    await this.started(record, observedAt, modelOf(input, output.message));
    await this.notify(
      record,
      { event: 'prompt', prompt_hash: sha256Of(text), prompt_chars: text.length },
      observedAt,
    );
  }

  /** The approval gate: resolves when the node allows the call, throws (refusing it) otherwise. */
  async toolBefore(input: ToolCall, args: unknown): Promise<void> {
    const observedAt = new Date();
    const record = this.book.record(input.sessionID);
    let answer: EventDecision;
    try {
      await this.started(record, observedAt);
      const call = describeCall(input.callID, input.tool, args);
      record.toolCalls++;
      answer = await this.post(record, preEvent(call, this.cwd), observedAt, GATE_TIMEOUT_MS);
      if (answer.decision === 'allow') record.calls.set(input.callID, call);
    } catch (error) {
      throw new Error(
        `VaultMesh could not decide on this call (${(error as Error).message}); calls are refused until the node answers`,
      );
    }
    if (answer.decision === 'deny') throw new Error(answer.reason ?? 'denied by VaultMesh policy');
  }

  async toolAfter(input: ToolCall, result: ToolResult): Promise<void> {
    const observedAt = new Date();
    const record = this.book.record(input.sessionID);
    const call = record.calls.get(input.callID) ?? describeCall(input.callID, input.tool, input.args ?? {});
    this.settle(record, input.callID, call, true);
    await this.notify(record, postEvent(call, result, this.cwd), observedAt);
  }

  /** OpenCode calls no hook when a tool throws; the failure shows only as the tool part's `error` state. */
  private async toolPartUpdated(part: Record<string, unknown>): Promise<void> {
    const state = isRecord(part.state) ? part.state : {};
    if (part.type !== 'tool' || state.status !== 'error') return;
    if (typeof part.sessionID !== 'string' || typeof part.callID !== 'string') return;
    const record = this.book.existing(part.sessionID);
    const call = record?.calls.get(part.callID);
    if (record === undefined || call === undefined) return;
    this.settle(record, part.callID, call, false);
    const error = typeof state.error === 'string' ? state.error : '';
    await this.notify(record, failureEvent(call, error, state.metadata), new Date());
  }

  private async idle(sessionID: string): Promise<void> {
    const record = this.book.existing(sessionID);
    if (record === undefined) return;
    const body: EventBody = this.book.isSubagent(sessionID)
      ? { event: 'subagent_end', agent_id: sessionID }
      : { event: 'turn_end' };
    await this.notify(record, body, new Date());
  }

  /** OpenCode keeps sessions until they are deleted: deletion is their end. */
  private async deleted(sessionID: string): Promise<void> {
    if (this.book.isSubagent(sessionID)) return;
    const record = this.book.existing(sessionID);
    if (record === undefined) return;
    // Tallies of a session this process only resumed would cover part of it: the audit would
    // report a mismatch that is none, so they are sent only for sessions begun here.
    const counters =
      record.createdAt === undefined
        ? {}
        : {
            counters: {
              commands_executed: record.commands,
              files_modified: record.modified.size,
              tool_calls: record.toolCalls,
            },
          };
    await this.notify(record, { event: 'session_end', reason: 'deleted', ...counters }, new Date());
    this.book.forget(record);
  }

  /** Counts an outcome the way the ledger does: bash calls that finished, distinct files written. */
  private settle(record: SessionRecord, callID: string, call: Call, succeeded: boolean): void {
    record.calls.delete(callID);
    if (call.kind === 'bash') record.commands++;
    const file = editedFile(call);
    if (succeeded && file !== undefined) record.modified.add(file);
  }

  /** Sends the session's `session_start` once, before anything else of it. */
  private started(record: SessionRecord, observedAt: Date, model?: string): Promise<void> {
    record.start ??= this.post(
      record,
      {
        event: 'session_start',
        source: record.createdAt === undefined ? 'resume' : 'startup',
        ...(model === undefined ? {} : { model_id: model }),
      },
      record.createdAt ?? observedAt,
      NOTIFY_TIMEOUT_MS,
    ).then(
      () => undefined,
      (error: unknown) => logFailure('session start not recorded', error),
    );
    return record.start;
  }

  /** Records an event that decides nothing: a failure is logged, never thrown. */
  private async notify(record: SessionRecord, body: EventBody, observedAt: Date): Promise<void> {
    await this.started(record, observedAt);
    try {
      await this.post(record, body, observedAt, NOTIFY_TIMEOUT_MS);
    } catch (error) {
      logFailure(`${body.event} not recorded`, error);
    }
  }

  /** Numbers the event before delivery, so one that never arrives leaves a hole the audit sees. */
  private post(record: SessionRecord, body: EventBody, observedAt: Date, timeoutMs: number) {
    record.seq++;
    return deliver(
      this.node,
      {
        v: 1,
        agent: 'opencode',
        session_id: record.id,
        agent_seq: record.seq,
        observed_at: observedAt.toISOString(),
        cwd: this.cwd,
        ...body,
      },
      timeoutMs,
    );
  }
}

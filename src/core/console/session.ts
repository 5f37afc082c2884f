/**
 * A Console session's state, derived from its receipts and nothing else (seed 001 §3.2), and the
 * audit of what is missing from them. Hooks can fail open, so the ledger itself must show the gaps:
 * a call that finished without being announced, a session that never ended, a number skipped in
 * the agent's own event count, tallies the agent reported that the receipts do not bear out.
 */
import type { Receipt } from '../receipt.js';
import { sessionContractSchema, type SessionContract } from './policy.js';

export type SessionStatus = 'active' | 'ended' | 'killed';

export interface PendingAction {
  action_id: string;
  seq: number;
  tool_name: string;
  action_type: string;
  rule: string;
  args_hash: string;
  policy_hash: string;
  requested_at: string;
  expires_at: string;
}

export interface SessionFlag {
  rule: string;
  detail: string;
  seq: number;
}

export interface SessionState {
  session_id: string;
  status: SessionStatus;
  agent_type: string;
  model_id?: string;
  caller: string;
  project_path: string;
  started_at: string;
  last_event_at: string;
  ended_at?: string;
  exit_reason?: string;
  commands_executed: number;
  files_read: number;
  files_modified: number;
  tool_calls: number;
  prompts: number;
  approvals_requested: number;
  approvals_granted: number;
  approvals_denied: number;
  subagents: number;
  current_task: string | null;
  git_commits: string[];
  pending_approvals: PendingAction[];
  /** Constraints the session went past, and calls that ran without the approval they needed. */
  flags: SessionFlag[];
  contract: SessionContract | null;
  receipts: number;
  first_seq: number;
  last_seq: number;
}

export type GapKind =
  | 'no_session_start'
  | 'post_without_pre'
  | 'pre_without_outcome'
  | 'no_session_end'
  | 'agent_seq_gap'
  | 'counter_mismatch'
  | 'unbound_approval'
  | 'duplicate_decision';

export interface Gap {
  kind: GapKind;
  detail: string;
  seq?: number;
}

type Body = Record<string, unknown>;

/**
 * Which call a receipt belongs to: the agent's tool-use id and the hash of the arguments, so a
 * tool-use id sent again with other arguments is another call, paired with its own outcome.
 */
function callKey(body: Body): string | undefined {
  const id = body.tool_use_id;
  return typeof id === 'string' ? `${id}\u0000${String(body.params_hash ?? '')}` : undefined;
}
const str = (body: Body, key: string): string | undefined =>
  typeof body[key] === 'string' ? (body[key] as string) : undefined;

interface Fold {
  state: SessionState;
  modified: Set<string>;
  read: Set<string>;
  pres: Map<string, Receipt>;
  outcomes: Set<string>;
  decided: Map<string, Receipt>;
  gaps: Gap[];
  agentSeqs: number[];
  gated: Map<string, Receipt>;
  /** Calls the policy refused outright, by action id. */
  refused: Map<string, Receipt>;
  lastEnd?: Receipt;
}

function emptyState(first: Receipt): SessionState {
  return {
    session_id: first.session_id ?? '',
    status: 'active',
    agent_type: 'unknown',
    caller: 'unknown',
    project_path: '',
    started_at: first.ts,
    last_event_at: first.ts,
    commands_executed: 0,
    files_read: 0,
    files_modified: 0,
    tool_calls: 0,
    prompts: 0,
    approvals_requested: 0,
    approvals_granted: 0,
    approvals_denied: 0,
    subagents: 0,
    current_task: null,
    git_commits: [],
    pending_approvals: [],
    flags: [],
    contract: null,
    receipts: 0,
    first_seq: first.seq,
    last_seq: first.seq,
  };
}

function applyStart(f: Fold, r: Receipt): void {
  const { state } = f;
  if (state.contract !== null) return; // a resume: the first start holds the contract
  const parsed = sessionContractSchema.safeParse(r.body.contract);
  const contract = parsed.success ? parsed.data : null;
  state.contract = contract;
  state.agent_type = str(r.body, 'agent_type') ?? state.agent_type;
  const model = str(r.body, 'model_id');
  if (model !== undefined) state.model_id = model;
  state.caller = str(r.body, 'caller') ?? state.caller;
  state.project_path = str(r.body, 'project_path') ?? state.project_path;
  state.started_at = r.ts;
  if (contract?.task !== undefined) state.current_task = contract.task;
}

function newFold(first: Receipt): Fold {
  return {
    state: emptyState(first),
    modified: new Set(),
    read: new Set(),
    pres: new Map(),
    outcomes: new Set(),
    decided: new Map(),
    gaps: [],
    agentSeqs: [],
    gated: new Map(),
    refused: new Map(),
  };
}

/** Takes one more receipt of the session, in seq order, into the fold. */
function step(f: Fold, r: Receipt): void {
  const { state } = f;
  const b = r.body as Body;
  state.receipts++;
  state.last_seq = r.seq;
  state.last_event_at = r.ts;
  if (typeof b.agent_seq === 'number') f.agentSeqs.push(b.agent_seq);
  if (state.contract === null && r.type !== 'console_session_start' && state.receipts === 1) {
    f.gaps.push({ kind: 'no_session_start', detail: `first receipt is ${r.type}`, seq: r.seq });
  }
  const toolUse = callKey(b);
  switch (r.type) {
    case 'console_session_start':
      applyStart(f, r);
      break;
    case 'console_prompt':
      state.prompts++;
      if (state.contract?.task === undefined) {
        state.current_task =
          str(b, 'prompt') ??
          `prompt ${String(b.prompt_hash).slice(0, 19)}… (${String(b.prompt_chars)} chars)`;
      }
      break;
    case 'console_tool_call':
      if (b.phase === 'pre') {
        state.tool_calls++;
        if (toolUse !== undefined) f.pres.set(toolUse, r);
        if (b.gate === 'approval' && typeof b.action_id === 'string') {
          state.approvals_requested++;
          f.gated.set(b.action_id, r);
        }
        if (b.gate === 'policy' && typeof b.action_id === 'string') f.refused.set(b.action_id, r);
      } else {
        outcome(f, toolUse, r);
        const path = str(b, 'file_path');
        if (b.tool_kind === 'file_read' && path !== undefined) f.read.add(path);
      }
      break;
    case 'console_command':
      state.commands_executed++;
      outcome(f, toolUse, r);
      break;
    case 'console_file_edit': {
      const path = str(b, 'file_path');
      if (path !== undefined) f.modified.add(path);
      outcome(f, toolUse, r);
      const limit = state.contract?.constraints.max_files_modified;
      if (limit !== undefined && f.modified.size > limit) {
        state.flags.push({
          rule: 'max_files_modified',
          detail: `${f.modified.size} files modified; the contract allows ${limit}`,
          seq: r.seq,
        });
      }
      break;
    }
    case 'console_git_commit':
      state.git_commits.push(String(b.commit_hash));
      break;
    case 'console_agent_spawn':
      state.subagents++;
      outcome(f, toolUse, r);
      break;
    case 'console_approval': {
      const id = str(b, 'action_id');
      if (id === undefined) break;
      const request = f.gated.get(id);
      if (request === undefined && b.decided_by !== 'policy') {
        f.gaps.push({
          kind: 'unbound_approval',
          detail: `decision for ${id}, which no call of this session asked for`,
          seq: r.seq,
        });
        break;
      }
      if (
        request !== undefined &&
        (b.args_hash !== request.body.params_hash || b.tool_name !== request.body.tool_name)
      ) {
        f.gaps.push({
          kind: 'unbound_approval',
          detail: `decision for ${id} names other arguments than the call`,
          seq: r.seq,
        });
        break;
      }
      if (f.decided.has(id)) {
        f.gaps.push({
          kind: 'duplicate_decision',
          detail: `${id} was already decided at seq ${f.decided.get(id)!.seq}; this one has no effect`,
          seq: r.seq,
        });
        break;
      }
      f.decided.set(id, r);
      if (b.approved === true) state.approvals_granted++;
      else if (request !== undefined) state.approvals_denied++;
      break;
    }
    case 'console_session_end':
      f.lastEnd = r;
      state.status = String(b.exit_reason ?? '').startsWith('killed') ? 'killed' : 'ended';
      state.ended_at = r.ts;
      state.exit_reason = str(b, 'exit_reason');
      break;
    default:
      break;
  }
  checkDuration(f, r);
}

/** A call's outcome: paired with its announcement, or a gap when it was never announced. */
function outcome(f: Fold, key: string | undefined, r: Receipt): void {
  if (key === undefined) return;
  f.outcomes.add(key);
  if (!f.pres.has(key)) {
    f.gaps.push({
      kind: 'post_without_pre',
      detail: `${r.type} for call ${String(r.body.tool_use_id)} that was never announced (PreToolUse missing)`,
      seq: r.seq,
    });
  }
}

function checkDuration(f: Fold, r: Receipt): void {
  const limit = f.state.contract?.constraints.max_duration_minutes;
  if (limit === undefined || f.state.flags.some((x) => x.rule === 'max_duration_minutes')) return;
  const minutes = (Date.parse(r.ts) - Date.parse(f.state.started_at)) / 60_000;
  if (minutes > limit) {
    f.state.flags.push({
      rule: 'max_duration_minutes',
      detail: `activity ${Math.floor(minutes)} minutes after the start; the contract allows ${limit}`,
      seq: r.seq,
    });
  }
}

/**
 * A session folded so far: receipts are added as they arrive, so a long session is not read back
 * whole for every event; the state is computed from the fold at a given time without changing it.
 */
export class SessionFold {
  private fold: Fold | undefined;

  /** The seq of the last receipt taken in, -1 before the first. */
  get lastSeq(): number {
    return this.fold?.state.last_seq ?? -1;
  }

  /** Files the session modified so far. */
  get modifiedFiles(): ReadonlySet<string> {
    return this.fold?.modified ?? new Set();
  }

  add(receipts: readonly Receipt[]): this {
    for (const r of receipts) {
      if (r.seq <= this.lastSeq) continue;
      this.fold ??= newFold(r);
      step(this.fold, r);
    }
    return this;
  }

  /** @throws Error before any receipt was added: a session has at least one. */
  state(now: Date): SessionState {
    if (this.fold === undefined) throw new Error('a session has at least one receipt');
    return finish(this.fold, now);
  }

  /** What the receipts so far show to be missing. */
  audit(now: Date): { state: SessionState; gaps: Gap[] } {
    const state = this.state(now);
    return { state, gaps: gapsOf(this.fold!, state) };
  }
}

/** The state of one session from its receipts, in seq order. */
export function deriveSession(receipts: readonly Receipt[], now: Date): SessionState {
  return new SessionFold().add(receipts).state(now);
}

/** The state the fold stands for at `now`: held calls still pending, and calls that ran when they should not have. */
function finish(f: Fold, now: Date): SessionState {
  const state: SessionState = {
    ...f.state,
    files_modified: f.modified.size,
    files_read: f.read.size,
    git_commits: [...f.state.git_commits],
    flags: [...f.state.flags],
    pending_approvals: [],
  };
  for (const [id, request] of f.refused) {
    if (f.outcomes.has(callKey(request.body)!)) {
      state.flags.push({
        rule: 'executed_after_denial',
        detail: `${id} (${String(request.body.tool_name)}) ran although the policy refused it`,
        seq: request.seq,
      });
    }
  }
  for (const [id, request] of f.gated) {
    const decision = f.decided.get(id);
    const toolUse = callKey(request.body)!;
    if (decision === undefined) {
      const b = request.body as Body;
      if (f.outcomes.has(toolUse)) {
        state.flags.push({
          rule: 'executed_without_approval',
          detail: `${id} (${String(b.tool_name)}) ran with no decision recorded`,
          seq: request.seq,
        });
      } else if (state.status === 'active' && Date.parse(String(b.expires_at)) > now.getTime()) {
        state.pending_approvals.push({
          action_id: id,
          seq: request.seq,
          tool_name: String(b.tool_name),
          action_type: String(b.action_type),
          rule: String(b.rule),
          args_hash: String(b.params_hash),
          policy_hash: String(b.policy_hash),
          requested_at: request.ts,
          expires_at: String(b.expires_at),
        });
      }
    } else if (decision.body.approved !== true && f.outcomes.has(toolUse)) {
      state.flags.push({
        rule: 'executed_after_denial',
        detail: `${id} (${String(request.body.tool_name)}) ran although it was denied`,
        seq: request.seq,
      });
    }
  }
  return state;
}

/** Everything the receipts of one session show to be missing. */
export function auditSession(receipts: readonly Receipt[], now: Date): { state: SessionState; gaps: Gap[] } {
  return new SessionFold().add(receipts).audit(now);
}

function gapsOf(f: Fold, state: SessionState): Gap[] {
  const gaps = [...f.gaps];
  for (const [toolUse, pre] of f.pres) {
    if (f.outcomes.has(toolUse)) continue;
    const id = pre.body.action_id;
    const decision = typeof id === 'string' ? f.decided.get(id) : undefined;
    const refused = pre.body.gate === 'policy' || (decision !== undefined && decision.body.approved !== true);
    const waiting = state.pending_approvals.some((p) => p.action_id === id);
    if (!refused && !waiting) {
      gaps.push({
        kind: 'pre_without_outcome',
        detail: `call ${String(pre.body.tool_use_id)} (${String(pre.body.tool_name)}) has no recorded outcome (PostToolUse missing)`,
        seq: pre.seq,
      });
    }
  }
  if (state.status === 'active') {
    gaps.push({ kind: 'no_session_end', detail: `no session end; last event ${state.last_event_at}` });
  }
  const seqs = [...new Set(f.agentSeqs)].sort((a, b) => a - b);
  let expected = 1;
  for (const s of seqs) {
    if (s > expected) {
      gaps.push({
        kind: 'agent_seq_gap',
        detail:
          s - expected === 1
            ? `agent event ${expected} never arrived`
            : `agent events ${expected}–${s - 1} never arrived`,
      });
    }
    expected = s + 1;
  }
  const end = f.lastEnd;
  const reported = end?.body.agent_counters as Record<string, number> | undefined;
  if (reported !== undefined) {
    const counted: Record<string, number> = {
      commands_executed: state.commands_executed,
      files_modified: state.files_modified,
      tool_calls: state.tool_calls,
    };
    for (const [key, value] of Object.entries(counted)) {
      if (typeof reported[key] === 'number' && reported[key] !== value) {
        gaps.push({
          kind: 'counter_mismatch',
          detail: `the agent counted ${reported[key]} ${key}; the ledger has ${value}`,
          seq: end!.seq,
        });
      }
    }
  }
  return gaps;
}

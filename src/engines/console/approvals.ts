/**
 * Approvals: a call the policy holds waits for a `console_approval` receipt bound to it — its
 * action id, tool name, the hash of its canonical arguments and the hash of the policy that asked.
 * The first decision in scroll order that matches the binding is the decision; anything else
 * (another call's approval, other arguments, a second decision) decides nothing.
 */
import type { PendingAction } from '../../core/console/session.js';
import { VaultMeshError } from '../../core/errors.js';
import type { Receipt } from '../../core/receipt.js';
import type { Ledger } from '../../ledger/ledger.js';
import { CONSOLE, listSessions } from './sessions.js';

export interface Binding {
  session_id: string;
  action_id: string;
  tool_name: string;
  args_hash: string;
  policy_hash: string;
}

export type DecidedBy = 'person' | 'policy' | 'timeout';

export interface Decision {
  approved: boolean;
  approver: string;
  reason: string;
  decided_by: DecidedBy;
}

const POLL_MS = 200;

function byAction(ledger: Ledger, type: string, actionId: string, session?: string): Receipt[] {
  return ledger.query(CONSOLE, {
    types: [type],
    where: [{ path: 'action_id', value: actionId, text: actionId }],
    ...(session === undefined ? {} : { session }),
    limit: 1000,
  });
}

/** The decision that holds for a binding: the first matching one in the scroll. */
function decisionFor(ledger: Ledger, binding: Binding): Receipt | undefined {
  return byAction(ledger, 'console_approval', binding.action_id, binding.session_id).find(
    (r) => r.body.tool_name === binding.tool_name && r.body.args_hash === binding.args_hash,
  );
}

export function approvalDraft(binding: Binding, actionType: string, decision: Decision) {
  return {
    scroll: CONSOLE,
    type: 'console_approval',
    session_id: binding.session_id,
    tags: ['console', 'approval', decision.approved ? 'approved' : 'denied'],
    body: {
      action_type: actionType,
      approved: decision.approved,
      approver: decision.approver,
      reason: decision.reason,
      decided_by: decision.decided_by,
      action_id: binding.action_id,
      tool_name: binding.tool_name,
      args_hash: binding.args_hash,
      policy_hash: binding.policy_hash,
    },
  };
}

/** The held call behind an action id, as its `pre` receipt recorded it. */
function heldCall(ledger: Ledger, actionId: string): Receipt {
  const request = byAction(ledger, 'console_tool_call', actionId).find(
    (r) => r.body.phase === 'pre' && r.body.gate === 'approval',
  );
  if (request === undefined) {
    throw new VaultMeshError('UNKNOWN_ACTION', `no call waits for approval under ${actionId}`, {
      hint: 'list the calls waiting with: vm console approvals pending',
      evidence: { field: 'action_id' },
    });
  }
  return request;
}

function bindingOf(request: Receipt): Binding {
  return {
    session_id: request.session_id!,
    action_id: String(request.body.action_id),
    tool_name: String(request.body.tool_name),
    args_hash: String(request.body.params_hash),
    policy_hash: String(request.body.policy_hash),
  };
}

/**
 * A person's decision on a held call.
 * @throws VaultMeshError UNKNOWN_ACTION, or ACTION_DECIDED when it was decided or expired already.
 */
export async function decideAction(
  ledger: Ledger,
  actionId: string,
  decision: Omit<Decision, 'decided_by'>,
  now: Date,
): Promise<Receipt> {
  const request = heldCall(ledger, actionId);
  const binding = bindingOf(request);
  const earlier = decisionFor(ledger, binding);
  if (earlier !== undefined) {
    throw new VaultMeshError(
      'ACTION_DECIDED',
      `${actionId} was already ${earlier.body.approved === true ? 'approved' : 'denied'} by ${String(earlier.body.approver)} (${String(earlier.body.decided_by)}, seq ${earlier.seq})`,
      { hint: 'a decision is final; the agent can ask again with a new call' },
    );
  }
  if (Date.parse(String(request.body.expires_at)) <= now.getTime()) {
    throw new VaultMeshError(
      'ACTION_DECIDED',
      `${actionId} expired at ${String(request.body.expires_at)}: no answer in time is a denial`,
      {
        hint: 'a decision is final; the agent can ask again with a new call',
      },
    );
  }
  const [appended] = await ledger.emit([
    approvalDraft(binding, String(request.body.action_type), { ...decision, decided_by: 'person' }),
  ]);
  return appended!.receipt;
}

/** Calls waiting for a person now, across sessions, oldest first. */
export function pendingApprovals(ledger: Ledger, now: Date): Array<PendingAction & { session_id: string }> {
  return listSessions(ledger, { status: 'active' }, now)
    .flatMap((s) => s.pending_approvals.map((p) => ({ ...p, session_id: s.session_id })))
    .sort((a, b) => a.seq - b.seq);
}

/**
 * Waits for the decision on a held call. No decision by `deadline`, or the caller going away, is
 * recorded as a denial by timeout; a person's decision that landed first still wins.
 */
export async function awaitDecision(
  ledger: Ledger,
  binding: Binding,
  actionType: string,
  deadline: number,
  timeoutApprover: string,
  signal?: AbortSignal,
): Promise<Receipt> {
  for (;;) {
    const found = decisionFor(ledger, binding);
    if (found !== undefined) return found;
    const remaining = deadline - Date.now();
    if (remaining <= 0 || signal?.aborted === true) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, remaining)));
  }
  const reason =
    signal?.aborted === true
      ? 'the agent stopped waiting for a decision'
      : 'no decision before the approval timeout';
  await ledger.emit([
    approvalDraft(binding, actionType, {
      approved: false,
      approver: timeoutApprover,
      reason,
      decided_by: 'timeout',
    }),
  ]);
  return decisionFor(ledger, binding)!;
}

/** Reading Console sessions back from the scroll: every view is derived from the receipts. */
import { auditSession, deriveSession, type Gap, type SessionState } from '../../core/console/session.js';
import { VaultMeshError } from '../../core/errors.js';
import type { Receipt } from '../../core/receipt.js';
import type { Ledger } from '../../ledger/ledger.js';

export const CONSOLE = 'console';
const ALL = Number.MAX_SAFE_INTEGER;

export function sessionReceipts(ledger: Ledger, sessionId: string): Receipt[] {
  return ledger.query(CONSOLE, { session: sessionId, limit: ALL });
}

/** @throws VaultMeshError UNKNOWN_SESSION when the scroll has no receipt of this session. */
export function sessionState(ledger: Ledger, sessionId: string, now: Date): SessionState {
  const receipts = sessionReceipts(ledger, sessionId);
  if (receipts.length === 0) {
    throw new VaultMeshError('UNKNOWN_SESSION', `no receipts of session ${sessionId} in the Console scroll`, {
      hint: 'list the sessions with: vm console session list',
      evidence: { field: 'session_id' },
    });
  }
  return deriveSession(receipts, now);
}

export interface SessionFilter {
  status?: SessionState['status'];
  agentType?: string;
  from?: string;
  to?: string;
}

export function listSessions(ledger: Ledger, filter: SessionFilter, now: Date): SessionState[] {
  return ledger
    .sessions(CONSOLE, filter)
    .map((id) => sessionState(ledger, id, now))
    .filter((s) => filter.status === undefined || s.status === filter.status)
    .filter((s) => filter.agentType === undefined || s.agent_type === filter.agentType);
}

export interface SessionAudit {
  session_id: string;
  agent_type: string;
  status: SessionState['status'];
  started_at: string;
  receipts: number;
  flags: SessionState['flags'];
  gaps: Gap[];
}

/** Every session active in the window, with what its receipts show to be missing or exceeded. */
export function auditSessions(ledger: Ledger, filter: SessionFilter, now: Date): SessionAudit[] {
  return ledger
    .sessions(CONSOLE, filter)
    .map((id) => {
      const { state, gaps } = auditSession(sessionReceipts(ledger, id), now);
      return {
        session_id: id,
        agent_type: state.agent_type,
        status: state.status,
        started_at: state.started_at,
        receipts: state.receipts,
        flags: state.flags,
        gaps,
      };
    })
    .filter((a) => filter.agentType === undefined || a.agent_type === filter.agentType);
}

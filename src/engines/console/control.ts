/**
 * A person's hand on a session: ending it from outside (`vm console session kill`). The end is a
 * receipt, so every later call of the session is refused by the policy; a process `vm console
 * spawn` started on this machine is also signalled to stop.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { VaultMeshError } from '../../core/errors.js';
import type { Receipt } from '../../core/receipt.js';
import type { Ledger } from '../../ledger/ledger.js';
import { CONSOLE, sessionState } from './sessions.js';

/** Where `vm console spawn` keeps the process id of the agent it started. */
export function agentPidFile(ledger: Ledger, sessionId: string): string {
  return join(ledger.dataDir.root, 'runs', 'console', sessionId, 'agent.pid');
}

export interface KillOutcome {
  receipt: Receipt;
  /** The local process that was signalled, when spawn started one. */
  signalled?: number;
}

export async function killSession(
  ledger: Ledger,
  sessionId: string,
  reason: string,
  by: string,
  now: Date,
): Promise<KillOutcome> {
  const state = sessionState(ledger, sessionId, now);
  if (state.status !== 'active') {
    throw new VaultMeshError('ACTION_DECIDED', `session ${sessionId} is already ${state.status}`, {
      hint: 'see it with: vm console session show ' + sessionId,
    });
  }
  const [appended] = await ledger.emit([
    {
      scroll: CONSOLE,
      type: 'console_session_end',
      session_id: sessionId,
      tags: ['console', 'killed'],
      body: {
        duration_ms: Math.max(0, now.getTime() - Date.parse(state.started_at)),
        commands_executed: state.commands_executed,
        files_modified: state.files_modified,
        exit_reason: `killed: ${reason}`,
        killed_by: by,
      },
    },
  ]);
  const outcome: KillOutcome = { receipt: appended!.receipt };
  const pidFile = agentPidFile(ledger, sessionId);
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    try {
      if (Number.isSafeInteger(pid) && pid > 1) {
        process.kill(pid, 'SIGTERM');
        outcome.signalled = pid;
      }
    } catch {
      // The process has already gone: the receipt is what stops the session.
    }
    rmSync(pidFile, { force: true });
  }
  return outcome;
}

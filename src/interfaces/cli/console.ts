/** `vm console ...`: AI coding-agent sessions, their approvals and their audit (seed 001 §6). */
import { homedir } from 'node:os';
import type { SessionState } from '../../core/console/session.js';
import { table } from '../../core/table.js';
import { decideAction, pendingApprovals } from '../../engines/console/approvals.js';
import { installClaudeHooks, spawnAgent, type SettingsScope } from '../../engines/console/agents.js';
import { consoleConfig, localPersonDid } from '../../engines/console/config.js';
import { killSession } from '../../engines/console/control.js';
import {
  auditSessions,
  CONSOLE,
  listSessions,
  sessionReceipts,
  sessionState,
} from '../../engines/console/sessions.js';
import { resolveDataDir } from '../../ledger/data-dir.js';
import { Ledger } from '../../ledger/ledger.js';
import { parseCount, parseTime } from '../params.js';
import type { GlobalOptions } from './main.js';
import { emitResult } from './output.js';
import type { Receipt } from '../../core/receipt.js';

async function withConsole<T>(g: GlobalOptions, work: (ledger: Ledger) => Promise<T> | T): Promise<T> {
  const ledger = Ledger.open(resolveDataDir(g.data));
  try {
    return await work(ledger);
  } finally {
    await ledger.close();
  }
}

const short = (text: string | null | undefined, n = 40) =>
  text === null || text === undefined ? '-' : text.length > n ? `${text.slice(0, n - 1)}…` : text;

function sessionsTable(sessions: SessionState[]): string {
  if (sessions.length === 0) return 'no sessions';
  return table([
    ['SESSION', 'AGENT', 'STATUS', 'STARTED', 'CMDS', 'FILES', 'TOOLS', 'PENDING', 'FLAGS'],
    ...sessions.map((s) => [
      s.session_id,
      s.agent_type,
      s.status,
      s.started_at,
      String(s.commands_executed),
      String(s.files_modified),
      String(s.tool_calls),
      String(s.pending_approvals.length),
      s.flags.length === 0 ? '-' : s.flags.map((f) => f.rule).join(','),
    ]),
  ]);
}

export async function sessionList(
  g: GlobalOptions,
  o: { status?: SessionState['status']; agentType?: string },
): Promise<void> {
  await withConsole(g, (ledger) => {
    const sessions = listSessions(
      ledger,
      {
        ...(o.status === undefined ? {} : { status: o.status }),
        ...(o.agentType === undefined ? {} : { agentType: o.agentType }),
      },
      new Date(),
    );
    emitResult(g.format, sessions, sessionsTable);
  });
}

function sessionText(s: SessionState): string {
  const lines = [
    `session ${s.session_id} (${s.status})`,
    `  agent:     ${s.agent_type}${s.model_id === undefined ? '' : ` ${s.model_id}`}, caller ${s.caller}`,
    `  project:   ${s.project_path || '-'}`,
    `  started:   ${s.started_at}${s.ended_at === undefined ? '' : `, ended ${s.ended_at} (${s.exit_reason ?? ''})`}`,
    `  task:      ${short(s.current_task, 100)}`,
    `  counts:    ${s.commands_executed} commands, ${s.files_read} files read, ${s.files_modified} files modified, ${s.tool_calls} tool calls, ${s.prompts} prompts, ${s.subagents} sub-agents`,
    `  approvals: ${s.approvals_requested} requested, ${s.approvals_granted} granted, ${s.approvals_denied} denied, ${s.pending_approvals.length} pending`,
    `  commits:   ${s.git_commits.length === 0 ? '-' : s.git_commits.map((c) => c.slice(0, 12)).join(' ')}`,
  ];
  if (s.contract !== null) {
    const c = s.contract.constraints;
    lines.push(
      `  contract:  approval for [${c.require_approval_for.join(', ')}], max ${c.max_files_modified ?? '∞'} files, max ${c.max_duration_minutes ?? '∞'} min, sandbox ${c.sandbox_mode ? 'on' : 'off'}`,
    );
  }
  for (const f of s.flags) lines.push(`  FLAG ${f.rule}: ${f.detail} (seq ${f.seq})`);
  for (const p of s.pending_approvals)
    lines.push(`  PENDING ${p.action_id} ${p.tool_name} (${p.rule}) until ${p.expires_at}`);
  return lines.join('\n');
}

export async function sessionShow(g: GlobalOptions, id: string): Promise<void> {
  await withConsole(g, (ledger) => emitResult(g.format, sessionState(ledger, id, new Date()), sessionText));
}

export async function sessionKill(
  g: GlobalOptions,
  id: string,
  o: { reason: string; by?: string },
): Promise<void> {
  await withConsole(g, async (ledger) => {
    const outcome = await killSession(
      ledger,
      id,
      o.reason,
      o.by ?? localPersonDid(consoleConfig(ledger)),
      new Date(),
    );
    emitResult(
      g.format,
      outcome,
      (r) =>
        `killed ${id} (seq ${r.receipt.seq})${r.signalled === undefined ? '' : `; signalled process ${r.signalled}`}`,
    );
  });
}

export async function approvalsPending(g: GlobalOptions): Promise<void> {
  await withConsole(g, (ledger) => {
    emitResult(g.format, pendingApprovals(ledger, new Date()), (rows) =>
      rows.length === 0
        ? 'no calls are waiting for approval'
        : table([
            ['ACTION', 'SESSION', 'TOOL', 'RULE', 'ARGS', 'EXPIRES'],
            ...rows.map((p) => [
              p.action_id,
              p.session_id,
              p.tool_name,
              p.rule,
              p.args_hash.slice(0, 19),
              p.expires_at,
            ]),
          ]),
    );
  });
}

export async function decide(
  g: GlobalOptions,
  actionId: string,
  o: { reason: string; approver?: string },
  approved: boolean,
): Promise<void> {
  await withConsole(g, async (ledger) => {
    const approver = o.approver ?? localPersonDid(consoleConfig(ledger));
    const receipt = await decideAction(
      ledger,
      actionId,
      { approved, reason: o.reason, approver },
      new Date(),
    );
    emitResult(
      g.format,
      receipt,
      (r) => `${approved ? 'approved' : 'rejected'} ${actionId} as ${approver} (seq ${r.seq})`,
    );
  });
}

function receiptLine(r: Receipt): string {
  const b = r.body;
  const what =
    r.type === 'console_command'
      ? `${String(b.command)} exit ${String(b.exit_code)} ${b.duration_ms === null ? '' : `${String(b.duration_ms)}ms`}`
      : r.type === 'console_file_edit'
        ? `${String(b.edit_type)} ${String(b.file_path)} (${String(b.lines_changed)} lines)`
        : r.type === 'console_tool_call'
          ? `${String(b.phase ?? '')} ${String(b.tool_name)}${b.gate !== undefined && b.gate !== 'none' ? ` [${String(b.gate)}]` : ''}`
          : r.type === 'console_approval'
            ? `${b.approved === true ? 'APPROVED' : 'DENIED'} ${String(b.action_id ?? '')} by ${String(b.approver)} (${String(b.decided_by ?? '')})`
            : '';
  return `${String(r.seq).padStart(6)}  ${r.ts}  ${r.type.replace(/^console_/, '').padEnd(14)} ${what}`;
}

export async function history(g: GlobalOptions, o: { session: string; limit: string }): Promise<void> {
  await withConsole(g, (ledger) => {
    const limit = parseCount(o.limit, 'limit');
    const receipts = sessionReceipts(ledger, o.session).slice(-limit);
    emitResult(g.format, receipts, (rs) =>
      rs.length === 0 ? `no receipts of session ${o.session}` : rs.map(receiptLine).join('\n'),
    );
  });
}

export async function receipts(g: GlobalOptions, o: { limit: string; type?: string[] }): Promise<void> {
  await withConsole(g, (ledger) => {
    const found = ledger.query(CONSOLE, {
      ...(o.type === undefined ? {} : { types: o.type }),
      limit: parseCount(o.limit, 'limit'),
      reverse: true,
    });
    emitResult(g.format, found, (rs) => (rs.length === 0 ? 'no receipts' : rs.map(receiptLine).join('\n')));
  });
}

/** Exit 4 when any session shows a gap or a flag: an audit that finds something is a failed check. */
export async function audit(g: GlobalOptions, o: { date?: string; agentType?: string }): Promise<void> {
  await withConsole(g, (ledger) => {
    const report = auditSessions(
      ledger,
      {
        ...(o.date === undefined
          ? {}
          : { from: parseTime(o.date, 'date'), to: parseTime(o.date, 'date', true) }),
        ...(o.agentType === undefined ? {} : { agentType: o.agentType }),
      },
      new Date(),
    );
    emitResult(g.format, report, (sessions) => {
      if (sessions.length === 0) return 'no sessions in that window';
      return sessions
        .map((s) =>
          [
            `${s.session_id} ${s.agent_type} ${s.status} (${s.receipts} receipts) — ${s.gaps.length === 0 && s.flags.length === 0 ? 'complete' : `${s.gaps.length} gap(s), ${s.flags.length} flag(s)`}`,
            ...s.flags.map((f) => `  FLAG ${f.rule}: ${f.detail} (seq ${f.seq})`),
            ...s.gaps.map(
              (x) => `  GAP  ${x.kind}: ${x.detail}${x.seq === undefined ? '' : ` (seq ${x.seq})`}`,
            ),
          ].join('\n'),
        )
        .join('\n');
    });
    if (report.some((s) => s.gaps.length > 0 || s.flags.length > 0)) process.exitCode = 4;
  });
}

export async function installHooks(
  g: GlobalOptions,
  o: { project: string; scope: SettingsScope; node?: string },
): Promise<void> {
  await withConsole(g, async (ledger) => {
    const installed = await installClaudeHooks(
      ledger,
      {
        project: o.project,
        scope: o.scope,
        home: homedir(),
        ...(o.node === undefined ? {} : { node: o.node }),
      },
      new Date(),
    );
    emitResult(g.format, installed, (r) =>
      [
        `wrote Claude Code hooks for ${r.events.length} events to ${r.settings_file}`,
        `  node:  ${r.node} (start it with: vm serve)`,
        `  token: ${r.token_file} (0600; revoke with: vm token revoke ${r.token_id})`,
      ].join('\n'),
    );
  });
}

export async function spawnCommand(
  g: GlobalOptions,
  agent: string,
  o: {
    task: string;
    project: string;
    model?: string;
    bin?: string;
    caller?: string;
    maxDuration?: string;
    maxFiles?: string;
    requireApproval?: string[];
    sandbox?: boolean;
    node?: string;
  },
): Promise<void> {
  await withConsole(g, async (ledger) => {
    const constraints = {
      ...(o.maxDuration === undefined
        ? {}
        : { max_duration_minutes: parseCount(o.maxDuration, 'max-duration') }),
      ...(o.maxFiles === undefined ? {} : { max_files_modified: parseCount(o.maxFiles, 'max-files') }),
      ...(o.requireApproval === undefined ? {} : { require_approval_for: o.requireApproval }),
      ...(o.sandbox === true ? { sandbox_mode: true } : {}),
    };
    const spawned = await spawnAgent(
      ledger,
      {
        agent,
        task: o.task,
        project: o.project,
        caller: o.caller ?? localPersonDid(consoleConfig(ledger)),
        constraints,
        ...(o.model === undefined ? {} : { model: o.model }),
        ...(o.bin === undefined ? {} : { bin: o.bin }),
      },
      {
        env: process.env,
        now: new Date(),
        // With --format json|yaml stdout carries our result alone: the agent's output goes to stderr.
        stdio: g.format === 'human' ? 'inherit' : ['inherit', 2, 'inherit'],
        ...(o.node === undefined ? {} : { node: o.node }),
      },
    );
    process.stderr.write(
      `vaultmesh: session ${spawned.session_id} started (${spawned.agent}, pid ${spawned.pid})\n`,
    );
    const { code, end } = await spawned.exit;
    emitResult(
      g.format,
      { session_id: spawned.session_id, exit_code: code, end_seq: end?.seq ?? null },
      (r) => `session ${r.session_id} ended: agent exit code ${r.exit_code ?? 'none'}`,
    );
    if (code !== 0) process.exitCode = code ?? 1;
  });
}

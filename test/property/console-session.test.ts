import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/core/canonical.js';
import { SessionFold, auditSession, deriveSession, type Gap } from '../../src/core/console/session.js';
import { sealDraft, validateDraft, type Receipt } from '../../src/core/receipt.js';

const SESSION = 'sess-prop';
const T0 = Date.parse('2026-11-23T07:00:00.000Z');
const NOW = new Date(T0 + 24 * 3600_000);

const sha = (label: string): string => `sha256:${createHash('sha256').update(label).digest('hex')}`;

/** Receipts numbered in order, one second apart, bodies as the Console recorder writes them. */
function receipts(drafts: Array<{ type: string; body: Record<string, unknown> }>): Receipt[] {
  return drafts.map(({ type, body }, i) => {
    const at = new Date(T0 + i * 1000).toISOString();
    const draft = validateDraft({
      scroll: 'console',
      type,
      session_id: SESSION,
      tags: ['console', 'claude-code'],
      body: { ...body, observed_at: at } as JsonObject,
    });
    return sealDraft(draft, i + 1, at, 'did:vm:node:vault-01').receipt;
  });
}

const start = (extra: Record<string, unknown> = {}) => ({
  type: 'console_session_start',
  body: {
    agent_type: 'claude-code',
    caller: 'did:vm:human:alice',
    project_path: '/p',
    contract: {
      contract_type: 'console_session',
      session_id: SESSION,
      agent_type: 'claude-code',
      caller: 'did:vm:human:alice',
      project_path: '/p',
      capabilities_requested: ['bash_execute'],
      constraints: {},
      created_at: new Date(T0).toISOString(),
    },
    ...extra,
  },
});
const end = (extra: Record<string, unknown> = {}) => ({
  type: 'console_session_end',
  body: { duration_ms: 1, commands_executed: 0, files_modified: 0, exit_reason: 'other', ...extra },
});

type Kind = 'bash' | 'edit' | 'read' | 'agent' | 'mcp';
const TOOLS: Record<Kind, [string, string]> = {
  bash: ['Bash', 'bash'],
  edit: ['Edit', 'file_edit'],
  read: ['Read', 'file_read'],
  agent: ['Task', 'agent'],
  mcp: ['mcp__github__create_issue', 'mcp'],
};

function pre(id: string, kind: Kind, path = `/p/${id}`) {
  const [tool, toolKind] = TOOLS[kind];
  return {
    type: 'console_tool_call',
    body: {
      tool_name: tool,
      params_hash: sha(`params:${id}`),
      result_hash: null,
      phase: 'pre',
      tool_use_id: id,
      tool_kind: toolKind,
      gate: 'none',
      ...(kind === 'edit' || kind === 'read' ? { file_path: path } : {}),
    },
  };
}

/** The outcome receipt the recorder writes for each kind of tool. */
function outcome(id: string, kind: Kind, path = `/p/${id}`) {
  const common = { tool_use_id: id, params_hash: sha(`params:${id}`) };
  switch (kind) {
    case 'bash':
      return {
        type: 'console_command',
        body: {
          command: 'npm',
          args_hash: sha('npm'),
          exit_code: 0,
          duration_ms: 1,
          result_hash: sha(id),
          ...common,
        },
      };
    case 'edit':
      return {
        type: 'console_file_edit',
        body: {
          file_path: path,
          old_hash: null,
          new_hash: sha(path),
          edit_type: 'create',
          lines_changed: 1,
          tool_name: 'Edit',
          ...common,
        },
      };
    case 'agent':
      return {
        type: 'console_agent_spawn',
        body: {
          parent_session_id: SESSION,
          child_session_id: `${SESSION}:${id}`,
          agent_type: 'Explore',
          task_hash: sha('task'),
          result_hash: sha(id),
          ...common,
        },
      };
    default: {
      const [tool, toolKind] = TOOLS[kind];
      return {
        type: 'console_tool_call',
        body: {
          tool_name: tool,
          result_hash: sha(id),
          phase: 'post',
          tool_kind: toolKind,
          ...(kind === 'read' ? { file_path: path } : {}),
          ...common,
        },
      };
    }
  }
}

const count = (gaps: Gap[], kind: Gap['kind']) => gaps.filter((g) => g.kind === kind).length;

/** The agent event numbers an agent_seq_gap detail names. */
function named(detail: string): number[] {
  const one = /^agent event (\d+) never arrived$/.exec(detail);
  if (one !== null) return [Number(one[1])];
  const range = /^agent events (\d+)–(\d+) never arrived$/.exec(detail);
  expect(range, detail).not.toBeNull();
  const [from, to] = [Number(range![1]), Number(range![2])];
  expect(to - from, detail).toBeGreaterThanOrEqual(1); // a single number is worded as such
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe('auditSession properties', () => {
  it('agent_seq_gap names exactly the numbers below the highest delivered that never arrived, in maximal ranges', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 80 })
          .chain((n) =>
            fc.tuple(
              fc.constant(n),
              fc.array(fc.integer({ min: 1, max: n }), { minLength: 1, maxLength: 2 * n }),
            ),
          ),
        ([, delivered]) => {
          // Duplicates stand for an event that became two receipts (a commit and its command).
          const drafts = delivered.map((agentSeq, i) =>
            i === 0
              ? start({ agent_seq: agentSeq })
              : {
                  type: 'console_turn_end',
                  body: { subagent: false, message_hash: null, agent_seq: agentSeq },
                },
          );
          const { gaps } = auditSession(receipts([...drafts, end()]), NOW);
          const seqGaps = gaps.filter((g) => g.kind === 'agent_seq_gap');
          const got = seqGaps.flatMap((g) => named(g.detail));
          const have = new Set(delivered);
          const max = Math.max(...delivered);
          const missing = Array.from({ length: max }, (_, i) => i + 1).filter((s) => !have.has(s));
          expect(got).toEqual(missing); // ascending, each named once
          // Maximal ranges: one gap per run of consecutive missing numbers.
          const runs = missing.filter((s, i) => i === 0 || missing[i - 1] !== s - 1).length;
          expect(seqGaps).toHaveLength(runs);
          expect(gaps.filter((g) => g.kind !== 'agent_seq_gap')).toEqual([]);
        },
      ),
    );
  });

  const ids = (max: number) =>
    fc.uniqueArray(fc.stringMatching(/^[A-Za-z0-9_-]{1,24}$/), { minLength: 1, maxLength: max });
  const kind = fc.constantFrom<Kind>('bash', 'edit', 'read', 'agent', 'mcp');

  /** k calls with their pre and outcome interleaved at random, each pre before its own outcome. */
  const interleaved = ids(25).chain((calls) =>
    fc.record({
      calls: fc.constant(calls),
      kinds: fc.array(kind, { minLength: calls.length, maxLength: calls.length }),
      order: fc.array(fc.nat(), { minLength: 2 * calls.length, maxLength: 2 * calls.length }),
      drop: fc.nat({ max: calls.length - 1 }),
    }),
  );

  function events(calls: string[], kinds: Kind[], order: number[]) {
    const slots = calls.flatMap((id, i) => [i, i]);
    const keyed = slots.map((call, i) => ({ call, key: order[i]! }));
    keyed.sort((a, b) => a.key - b.key); // stable: ties keep the pre first
    const seen = new Set<number>();
    return keyed.map(({ call }) => {
      const first = !seen.has(call);
      seen.add(call);
      return { call, phase: first ? ('pre' as const) : ('outcome' as const) };
    });
  }

  it('k complete calls in any interleaving: k tool calls and no call gap', () => {
    fc.assert(
      fc.property(interleaved, ({ calls, kinds, order }) => {
        const drafts = events(calls, kinds, order).map(({ call, phase }) =>
          phase === 'pre' ? pre(calls[call]!, kinds[call]!) : outcome(calls[call]!, kinds[call]!),
        );
        const { state, gaps } = auditSession(receipts([start(), ...drafts, end()]), NOW);
        expect(state.tool_calls).toBe(calls.length);
        expect(state.commands_executed).toBe(kinds.filter((k) => k === 'bash').length);
        expect(state.subagents).toBe(kinds.filter((k) => k === 'agent').length);
        expect(gaps).toEqual([]);
      }),
    );
  });

  it('dropping any one pre leaves exactly one post_without_pre and nothing else', () => {
    fc.assert(
      fc.property(interleaved, ({ calls, kinds, order, drop }) => {
        const drafts = events(calls, kinds, order)
          .filter(({ call, phase }) => !(call === drop && phase === 'pre'))
          .map(({ call, phase }) =>
            phase === 'pre' ? pre(calls[call]!, kinds[call]!) : outcome(calls[call]!, kinds[call]!),
          );
        const { state, gaps } = auditSession(receipts([start(), ...drafts, end()]), NOW);
        expect(state.tool_calls).toBe(calls.length - 1);
        expect(count(gaps, 'post_without_pre')).toBe(1);
        expect(count(gaps, 'pre_without_outcome')).toBe(0);
        expect(gaps).toHaveLength(1);
        expect(gaps[0]!.detail).toContain(`call ${calls[drop]!} that was never announced`);
      }),
    );
  });

  it('dropping any one outcome leaves exactly one pre_without_outcome', () => {
    fc.assert(
      fc.property(interleaved, ({ calls, kinds, order, drop }) => {
        const drafts = events(calls, kinds, order)
          .filter(({ call, phase }) => !(call === drop && phase === 'outcome'))
          .map(({ call, phase }) =>
            phase === 'pre' ? pre(calls[call]!, kinds[call]!) : outcome(calls[call]!, kinds[call]!),
          );
        const { state, gaps } = auditSession(receipts([start(), ...drafts, end()]), NOW);
        expect(state.tool_calls).toBe(calls.length);
        expect(gaps.map((g) => g.kind)).toEqual(['pre_without_outcome']);
      }),
    );
  });

  it('a session folded in any chunks, receipts sent again included, has the state and gaps of one fold', () => {
    fc.assert(
      fc.property(
        interleaved,
        fc.array(fc.boolean(), { maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.boolean(),
        ({ calls, kinds, order }, keep, cuts, ended) => {
          const drafts = events(calls, kinds, order)
            .filter((_, i) => keep[i] ?? true)
            .map(({ call, phase }) =>
              phase === 'pre' ? pre(calls[call]!, kinds[call]!) : outcome(calls[call]!, kinds[call]!),
            );
          const all = receipts([start(), ...drafts, ...(ended ? [end()] : [])]);
          const whole = auditSession(all, NOW);
          const fold = new SessionFold();
          let from = 0;
          for (const cut of [...cuts.map((c) => c % (all.length + 1)), all.length].sort((a, b) => a - b)) {
            // Each chunk also repeats the receipts before it, as a reader that re-reads would.
            fold.add(all.slice(Math.max(0, from - 2), cut));
            from = Math.max(from, cut);
            expect(fold.lastSeq).toBe(from === 0 ? -1 : all[from - 1]!.seq);
          }
          expect(fold.audit(NOW)).toEqual(whole);
          // Reading the state does not change the fold.
          expect(fold.state(NOW)).toEqual(whole.state);
          expect(fold.audit(NOW)).toEqual(whole);
          expect(deriveSession(all, NOW)).toEqual(whole.state);
        },
      ),
    );
  });

  it('files_modified is the number of distinct paths edited, files_read of those read', () => {
    const path = fc.stringMatching(/^\/p\/[a-e]{1,2}$/);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(path, fc.boolean()), { maxLength: 40 }),
        fc.integer({ min: 0, max: 40 }),
        (ops, limit) => {
          const drafts = ops.flatMap(([file, isEdit], i) => {
            const id = `call-${i}`;
            const k: Kind = isEdit ? 'edit' : 'read';
            return [pre(id, k, file), outcome(id, k, file)];
          });
          const state = deriveSession(
            receipts([
              {
                ...start(),
                body: {
                  ...start().body,
                  contract: { ...start().body.contract, constraints: { max_files_modified: limit } },
                },
              },
              ...drafts,
            ]),
            NOW,
          );
          const edited = new Set(ops.filter(([, e]) => e).map(([f]) => f));
          const read = new Set(ops.filter(([, e]) => !e).map(([f]) => f));
          expect(state.files_modified).toBe(edited.size);
          expect(state.files_read).toBe(read.size);
          expect(state.tool_calls).toBe(ops.length);
          // Flagged exactly when the contract's limit was passed.
          expect(state.flags.some((f) => f.rule === 'max_files_modified')).toBe(edited.size > limit);
        },
      ),
    );
  });
});

/**
 * The design gate's checklist (seed 001 §12) for the Console engine, whose runs are agent sessions
 * rather than staged runs: each item judged on what a session leaves on disk.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.js';
import { consoleEventSchema, type ConsoleEvent } from '../../src/core/console/events.js';
import { sessionContractSchema } from '../../src/core/console/policy.js';
import { validateDraft, type Receipt } from '../../src/core/receipt.js';
import { parseRootFile } from '../../src/core/root-file.js';
import { consoleScroll } from '../../src/core/scrolls/console.js';
import { SCROLLS } from '../../src/core/scrolls/index.js';
import { createLocalBackend } from '../../src/engines/guardian/backends/local.js';
import { guardianConfigSchema } from '../../src/engines/guardian/config.js';
import { runAnchorCycle } from '../../src/engines/guardian/cycle.js';
import { ConsoleRecorder } from '../../src/engines/console/recorder.js';
import { sessionState } from '../../src/engines/console/sessions.js';
import { initDataDir } from '../../src/ledger/init.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { loadNodeSigner } from '../../src/ledger/node-identity.js';

const SESSION = 'gate-session-1';
const hash = (c: string) => `sha256:${c.repeat(64)}`;
const at = (s: number) => new Date(Date.UTC(2026, 10, 23, 9, 0, s)).toISOString();
const base = (n: number) => ({
  v: 1 as const,
  agent: 'claude-code',
  session_id: SESSION,
  agent_seq: n,
  observed_at: at(n),
  cwd: '/work/app',
});
const EVENTS: ConsoleEvent[] = [
  { ...base(1), event: 'session_start', source: 'startup', model_id: 'claude-opus-4-5' },
  { ...base(2), event: 'prompt', prompt_hash: hash('a'), prompt_chars: 12 },
  {
    ...base(3),
    event: 'tool_pre',
    tool_use_id: 't1',
    tool_name: 'Bash',
    params_hash: hash('b'),
    subject: { command: 'npm test' },
  },
  {
    ...base(4),
    event: 'tool_post',
    tool_use_id: 't1',
    tool_name: 'Bash',
    params_hash: hash('b'),
    result_hash: hash('c'),
    subject: { command: 'npm test' },
  },
  {
    ...base(5),
    event: 'tool_pre',
    tool_use_id: 't2',
    tool_name: 'Edit',
    params_hash: hash('d'),
    subject: { file_path: '/work/app/a.ts' },
    file_hash: hash('e'),
  },
  {
    ...base(6),
    event: 'tool_post',
    tool_use_id: 't2',
    tool_name: 'Edit',
    params_hash: hash('d'),
    result_hash: hash('f'),
    subject: { file_path: '/work/app/a.ts' },
    file_hash: hash('1'),
    lines_changed: 4,
  },
  { ...base(7), event: 'session_end', reason: 'prompt_input_exit' },
];

describe('design gate: console', () => {
  let scratch: string;
  let ledger: Ledger;
  let scrollBefore = '';
  let receipts: Receipt[] = [];

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'vaultmesh-console-gate-'));
    await initDataDir(join(scratch, 'data'), 'gate');
    ledger = Ledger.open(join(scratch, 'data'));
    const recorder = new ConsoleRecorder(ledger);
    for (const event of EVENTS.slice(0, 2)) await recorder.record(consoleEventSchema.parse(event));
    scrollBefore = readFileSync(ledger.dataDir.scrollFile(consoleScroll), 'utf8');
    for (const event of EVENTS.slice(2)) await recorder.record(consoleEventSchema.parse(event));
    receipts = ledger.query('console', { limit: 1000 });
  });
  afterAll(async () => {
    await ledger.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('contract: the session start carries a contract valid against its schema', () => {
    const start = receipts.find((r) => r.type === 'console_session_start')!;
    const contract = sessionContractSchema.parse(start.body.contract);
    expect(contract.session_id).toBe(SESSION);
    expect(contract.constraints.require_approval_for).toEqual(['git_push', 'file_delete']);
  });

  it('state: derived from the receipts alone', () => {
    const state = sessionState(ledger, SESSION, new Date());
    expect(state).toMatchObject({
      status: 'ended',
      commands_executed: 1,
      files_modified: 1,
      tool_calls: 2,
      prompts: 1,
    });
  });

  it('receipts: genesis first, then one receipt per event, each valid for its type', () => {
    expect(receipts.map((r) => r.type)).toEqual([
      'console_genesis',
      'console_session_start',
      'console_prompt',
      'console_tool_call',
      'console_command',
      'console_tool_call',
      'console_file_edit',
      'console_session_end',
    ]);
    for (const r of receipts) validateDraft({ scroll: r.scroll, type: r.type, body: r.body, tags: r.tags });
  });

  it('append-only: later events only added lines after the earlier bytes', () => {
    expect(consoleScroll.file).toBe('receipts/console/console_events.jsonl');
    const after = readFileSync(ledger.dataDir.scrollFile(consoleScroll), 'utf8');
    expect(after.startsWith(scrollBefore)).toBe(true);
    expect(after.slice(scrollBefore.length).trim().split('\n')).toHaveLength(5);
  });

  it('root: ROOT.console.txt holds the tree root in the seed format', async () => {
    await ledger.publish('console');
    const text = readFileSync(ledger.dataDir.rootFile(consoleScroll), 'utf8');
    expect(text).toMatch(/^# VaultMesh Console Root\nengine_id=engine:console\n/);
    const root = parseRootFile(text);
    const status = ledger.status('console');
    expect(root.events).toBe(status.size);
    expect(toHex(root.merkleRoot)).toBe(toHex(status.root));
  });

  it('anchor: a Guardian cycle covers the Console scroll', async () => {
    expect(SCROLLS).toContain(consoleScroll);
    const local = [
      createLocalBackend(loadNodeSigner(ledger.dataDir), ledger.identity.verifier, () => new Date()),
    ];
    const cycle = await runAnchorCycle(ledger, guardianConfigSchema.parse({}), local, {
      clock: () => new Date(),
    });
    expect(cycle.outcome).toBe('anchored');
    expect(cycle.heads.find((h) => h.scroll === 'console')?.size).toBe(receipts.length);
  });

  it('query: by session, type and body field', () => {
    expect(ledger.query('console', { session: SESSION, limit: 100 })).toHaveLength(receipts.length - 1);
    const edits = ledger.query('console', {
      types: ['console_file_edit'],
      where: [{ path: 'file_path', value: '/work/app/a.ts', text: '/work/app/a.ts' }],
      limit: 10,
    });
    expect(edits.map((r) => [r.body.old_hash, r.body.new_hash, r.body.lines_changed])).toEqual([
      [hash('e'), hash('1'), 4],
    ]);
  });
});

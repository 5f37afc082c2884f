/**
 * The MCP server: the ledger's searches, roots, checkpoints and proofs, appends, and every engine
 * operation a remote caller may run, as tools for AI agents. The transport (stdio, HTTP) says who
 * the caller is; every tool asks Access first. A domain failure comes back as a tool result with
 * `isError`, in the CLI's `error[CODE]` form, so the agent can read it and act on it.
 */
import { McpServer, type ToolCallback } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { MAX_BUNDLE_BYTES } from '../../core/bundle.js';
import { toBase64, toHex } from '../../core/bytes.js';
import { isVaultMeshError, type VaultMeshError } from '../../core/errors.js';
import { assertAppendable } from '../../core/receipt.js';
import { parseVerifierKey } from '../../core/note.js';
import { SCROLLS, getReceiptType, getScroll } from '../../core/scrolls/index.js';
import { operationCapability, operationPath } from '../../engines/framework/engine.js';
import { ENGINE_SURFACES } from '../../engines/registry.js';
import type { Ledger } from '../../ledger/ledger.js';
import { constraintsSchema } from '../../core/console/policy.js';
import { AGENTS, spawnAgent, type AgentName } from '../../engines/console/agents.js';
import { decideAction } from '../../engines/console/approvals.js';
import { CONSOLE, listSessions, sessionState } from '../../engines/console/sessions.js';
import { anchorStatus } from '../../engines/guardian/anchors.js';
import type { AnchorBackend } from '../../engines/guardian/backend.js';
import { anchoredBundle, verifyBundleReport } from '../../engines/guardian/bundle.js';
import type { GuardianConfig } from '../../engines/guardian/config.js';
import type { CycleResult } from '../../engines/guardian/cycle.js';
import type { Access, Caller, Need } from '../access.js';

export interface McpServerOptions {
  ledger: Ledger;
  access: Access;
  /**
   * The caller of the current request. `action` names the tool (`mcp receipts_search`), for the
   * refusal receipt of a transport that checks its token on every call.
   */
  caller: (action: string) => Caller | Promise<Caller>;
  version: string;
  /** The Guardian: its configuration and backends, and how a cycle is run (the node shares one at a time). */
  guardian: { config: GuardianConfig; backends: readonly AnchorBackend[]; cycle: () => Promise<CycleResult> };
}

const INSTRUCTIONS = [
  'VaultMesh is a tamper-evident ledger: receipts are appended to scrolls (append-only logs such as',
  'treasury, drills, identity), each scroll is an RFC 6962 Merkle tree, and the node signs checkpoints',
  'of it. Find receipts with receipts_search; prove one with proof_bundle, which anyone can check offline',
  'with verify_bundle and the node key; append with emit_receipt (needs a token with storage on the',
  'scroll). AI coding-agent sessions are recorded in the console scroll: console_session_list and',
  'console_session_status show their derived state and the calls waiting for a person,',
  'console_receipts_search their receipts; console_approve_action decides a held call and',
  'console_spawn_agent starts an agent on this node (both need admin on console).',
  'Failures come back as error[CODE]: message, with a hint saying how to fix them.',
].join(' ');

const scrollName = z.string().min(1).describe('scroll id, e.g. treasury (scroll_roots lists them)');
const day = z.iso.date();
const time = z.iso.datetime({ offset: true });
const bodyPath = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;

const searchInput = z.object({
  scroll: scrollName,
  type: z.array(z.string().min(1)).max(64).optional().describe('receipt types, any of them'),
  from: z
    .union([day, time])
    .optional()
    .describe('recorded at or after: a date (2026-11-23) or an ISO time with Z or an offset'),
  to: z.union([day, time]).optional().describe('recorded before; a date includes that whole day'),
  tag: z.array(z.string().min(1)).max(64).optional().describe('tags that must all be present'),
  where: z
    .record(
      z.string().regex(bodyPath, 'a body field name, dots for nesting'),
      z.union([z.string(), z.number(), z.boolean(), z.null()]),
    )
    // Each field is a condition of one SQL query, and SQLite bounds how many it takes.
    .refine((where) => Object.keys(where).length <= 32, 'at most 32 fields')
    .optional()
    .describe('body fields that must hold these values, e.g. {"account": "ops", "flags.urgent": true}'),
  limit: z.number().int().min(1).max(1000).default(50),
  reverse: z.boolean().default(false).describe('newest first'),
});

const rootsInput = z.object({ scroll: scrollName.optional().describe('one scroll; all when absent') });
const checkpointInput = z.object({ scroll: scrollName });
const bundleInput = z.object({
  scroll: scrollName,
  seq: z.number().int().min(0).describe('the receipt sequence number, from 0'),
});
const consistencyInput = z.object({
  scroll: scrollName,
  old_size: z.number().int().min(0).describe('the size of the earlier tree'),
  new_size: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('the size of the later tree; the scroll size now when absent'),
});
const verifyInput = z.object({
  bundle: z
    .string()
    .min(1)
    .max(MAX_BUNDLE_BYTES)
    .describe('the bundle JSON text, as proof_bundle returns it'),
  vkey: z.string().min(1).optional().describe("the signer's verifier key; this node's when absent"),
});
const emitInput = z.object({
  scroll: scrollName,
  type: z.string().min(1).describe('a receipt type of the scroll'),
  body: z.record(z.string(), z.unknown()).describe("the receipt body, checked against the type's schema"),
  tags: z.array(z.string().min(1)).optional(),
  session_id: z.string().min(1).optional(),
});

const sessionId = z.string().min(1).max(128).describe('a Console session id');
const sessionListInput = z.object({
  status: z.enum(['active', 'ended', 'killed']).optional().describe('only sessions in this state'),
  agent_type: z.string().min(1).max(100).optional().describe('only sessions of this agent, e.g. claude-code'),
});
const consoleSearchInput = z.object({
  session_id: sessionId.optional().describe('only receipts of this session'),
  type: z
    .array(z.string().min(1))
    .max(64)
    .optional()
    .describe('Console receipt types, any of them, e.g. console_command, console_approval'),
  limit: z.number().int().min(1).max(1000).default(50),
});
const approveInput = z.object({
  action_id: z
    .string()
    .min(1)
    .max(200)
    .describe("the held call's action id (act-...), from console_session_status pending_approvals"),
  approved: z.boolean().describe('true lets the call run; false refuses it'),
  reason: z.string().min(1).max(2000).describe('why, recorded in the approval receipt'),
});
// No defaults here: what the caller leaves out comes from the node's [console.constraints].
const limits = constraintsSchema.shape;
const spawnInput = z.object({
  agent: z.enum(Object.keys(AGENTS) as [AgentName, ...AgentName[]]).describe('the agent to start'),
  task: z.string().min(1).max(4096).describe("the agent's task, recorded in the session contract"),
  project_path: z
    .string()
    .min(1)
    .max(4096)
    .optional()
    .describe("the project directory on the node's machine; the node's working directory when absent"),
  constraints: z
    .strictObject({
      max_duration_minutes: limits.max_duration_minutes,
      max_files_modified: limits.max_files_modified,
      require_approval_for: limits.require_approval_for.unwrap().optional(),
      sandbox_mode: limits.sandbox_mode.unwrap().optional(),
      approval_timeout_seconds: limits.approval_timeout_seconds.unwrap().optional(),
    })
    .optional()
    .describe("the session contract's constraints; each one absent is the node's configured default"),
});

/** What a tool produced: the JSON the agent reads, and whether it is a failed check. */
interface Outcome {
  result: unknown;
  failed?: boolean;
}

const readOnly: ToolAnnotations = { readOnlyHint: true, openWorldHint: false };
/** Publishes a checkpoint when the scroll grew: a write, but of nothing the caller chose. */
const mayPublish: ToolAnnotations = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};
const appends: ToolAnnotations = { readOnlyHint: false, destructiveHint: false, openWorldHint: false };

export function createMcpServer(options: McpServerOptions): McpServer {
  const { ledger, access, caller } = options;
  const server = new McpServer(
    { name: 'vaultmesh', version: options.version },
    { instructions: INSTRUCTIONS },
  );

  function tool<S extends z.ZodType>(
    name: string,
    config: { title: string; description: string; input: S; annotations: ToolAnnotations },
    need: (input: z.output<S>) => Need,
    run: (input: z.output<S>, caller: Caller) => Outcome | Promise<Outcome>,
  ): void {
    const action = `mcp ${name}`;
    const handler = async (input: z.output<S>): Promise<CallToolResult> => {
      try {
        const who = await caller(action);
        await access.authorize(who, need(input), action);
        return reply(await run(input, who));
      } catch (error) {
        if (isVaultMeshError(error)) return refusal(error);
        throw error;
      }
    };
    server.registerTool(
      name,
      {
        title: config.title,
        description: config.description,
        inputSchema: config.input,
        annotations: config.annotations,
      },
      // The SDK infers its callback type from the schema; for a generic schema it cannot.
      handler as unknown as ToolCallback<S>,
    );
  }

  tool(
    'receipts_search',
    {
      title: 'Search receipts',
      description:
        'Find receipts in one scroll by type, time, tags and body fields. Returns the receipts, oldest first unless reverse.',
      input: searchInput,
      annotations: readOnly,
    },
    (input) => ({ capability: 'read', scroll: getScroll(input.scroll).name }),
    (input) => {
      const scroll = getScroll(input.scroll);
      for (const type of input.type ?? []) getReceiptType(scroll, type);
      const receipts = ledger.query(scroll.name, {
        ...(input.type === undefined ? {} : { types: input.type }),
        ...(input.from === undefined ? {} : { from: timeBound(input.from, false) }),
        ...(input.to === undefined ? {} : { to: timeBound(input.to, true) }),
        ...(input.tag === undefined ? {} : { tags: input.tag }),
        where: Object.entries(input.where ?? {}).map(([path, value]) => ({
          path,
          value,
          text: typeof value === 'string' ? value : JSON.stringify(value),
        })),
        limit: input.limit,
        reverse: input.reverse,
      });
      return { result: receipts };
    },
  );

  tool(
    'scroll_roots',
    {
      title: 'Scroll roots',
      description:
        'The size and Merkle root (RFC 6962, hex) of one scroll or of every scroll, and how many receipts its signed checkpoint covers (null when none).',
      input: rootsInput,
      annotations: readOnly,
    },
    (input) => ({
      capability: 'read',
      ...(input.scroll === undefined ? {} : { scroll: getScroll(input.scroll).name }),
    }),
    (input) => {
      const scrolls = input.scroll === undefined ? SCROLLS : [getScroll(input.scroll)];
      return {
        result: scrolls.map((s) => {
          const status = ledger.status(s.name);
          return {
            scroll: s.name,
            file: s.file,
            size: status.size,
            root: toHex(status.root),
            checkpointSize: status.checkpointSize ?? null,
          };
        }),
      };
    },
  );

  tool(
    'checkpoint',
    {
      title: 'Signed checkpoint',
      description:
        "The scroll's signed checkpoint (C2SP signed note: origin, size, base64 root), signing a new one first if the scroll grew.",
      input: checkpointInput,
      annotations: mayPublish,
    },
    (input) => ({ capability: 'read', scroll: getScroll(input.scroll).name }),
    async (input) => {
      const published = await ledger.publish(getScroll(input.scroll).name);
      const cp = published.checkpoint;
      return {
        result: { origin: cp.origin, size: cp.size, root: toBase64(cp.rootHash), note: published.note },
      };
    },
  );

  tool(
    'proof_bundle',
    {
      title: 'Proof bundle',
      description:
        'A bundle proving receipt seq is in the scroll: the receipt line, its inclusion proof and a signed checkpoint (c2sp.org/tlog-proof). `bundle` is the text to keep or pass to verify_bundle; `parsed` is the same, as JSON.',
      input: bundleInput,
      annotations: mayPublish,
    },
    (input) => ({ capability: 'read', scroll: getScroll(input.scroll).name }),
    async (input) => {
      const bundle = await anchoredBundle(ledger, getScroll(input.scroll).name, input.seq);
      return { result: { bundle, parsed: JSON.parse(bundle) as unknown } };
    },
  );

  tool(
    'consistency_proof',
    {
      title: 'Consistency proof',
      description:
        'Proves that the tree of old_size receipts is a prefix of the tree of new_size receipts (RFC 6962): both roots and the proof hashes, base64.',
      input: consistencyInput,
      annotations: readOnly,
    },
    (input) => ({ capability: 'read', scroll: getScroll(input.scroll).name }),
    (input) => {
      const c = ledger.consistency(getScroll(input.scroll).name, input.old_size, input.new_size);
      return {
        result: {
          ...c,
          oldRoot: toBase64(c.oldRoot),
          newRoot: toBase64(c.newRoot),
          proof: c.proof.map(toBase64),
        },
      };
    },
  );

  tool(
    'verify_bundle',
    {
      title: 'Verify a proof bundle',
      description:
        "Checks a proof bundle offline: the checkpoint's signature, the receipt's integrity and its inclusion. Fails with BUNDLE_INVALID, INCLUSION_MISMATCH, SIGNATURE_INVALID or UNKNOWN_SIGNER when it does not hold.",
      input: verifyInput,
      annotations: readOnly,
    },
    () => ({ capability: 'read' }),
    async (input) => {
      const verifier = input.vkey === undefined ? ledger.identity.verifier : parseVerifierKey(input.vkey);
      const result = await verifyBundleReport(input.bundle, { verifier, cwd: ledger.dataDir.root });
      return { result, failed: !result.ok };
    },
  );

  tool(
    'emit_receipt',
    {
      title: 'Record a receipt',
      description:
        'Appends a receipt to a scroll and signs a checkpoint covering it. Needs a token with storage on the scroll. Returns the receipt with its seq and hashes.',
      input: emitInput,
      annotations: appends,
    },
    (input) => ({ capability: 'storage', scroll: getScroll(input.scroll).name }),
    async (input) => {
      const scroll = getScroll(input.scroll).name;
      assertAppendable({ scroll, type: input.type });
      const [appended] = await ledger.emit([
        {
          scroll,
          type: input.type,
          body: input.body,
          tags: input.tags ?? [],
          ...(input.session_id === undefined ? {} : { session_id: input.session_id }),
        },
      ]);
      const published = await ledger.publish(scroll);
      return { result: { ...appended!.receipt, checkpointSize: published.checkpoint.size } };
    },
  );

  tool(
    'anchor_status',
    {
      title: 'Anchor status',
      description:
        'The last anchor of each Guardian backend (RFC 3161 TSA, OpenTimestamps, Ethereum, local): anchor id, combined root, age in seconds, whether it is stale, and the last failure.',
      input: z.object({}),
      annotations: readOnly,
    },
    () => ({ capability: 'read', scroll: 'guardian' }),
    () => ({ result: anchorStatus(ledger, options.guardian.config, options.guardian.backends, new Date()) }),
  );

  tool(
    'anchor_now',
    {
      title: 'Anchor now',
      description:
        "Runs one Guardian cycle: checks that no scroll was rewritten since the last anchor, signs every checkpoint and anchors their combined root with each backend. Needs a token with the anchor capability. A divergence or a total failure comes back as an error with the cycle's result.",
      input: z.object({}),
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: true,
      },
    },
    () => ({ capability: 'anchor' }),
    async () => {
      const result = await options.guardian.cycle();
      return { result, failed: result.outcome === 'diverged' || result.outcome === 'failed' };
    },
  );

  tool(
    'console_session_list',
    {
      title: 'Console: sessions',
      description:
        'AI coding-agent sessions recorded in the console scroll, oldest first, each with its state derived from its receipts: status, counts, flags, calls waiting for approval.',
      input: sessionListInput,
      annotations: readOnly,
    },
    () => ({ capability: 'read', scroll: CONSOLE }),
    (input) => ({
      result: listSessions(
        ledger,
        {
          ...(input.status === undefined ? {} : { status: input.status }),
          ...(input.agent_type === undefined ? {} : { agentType: input.agent_type }),
        },
        new Date(),
      ),
    }),
  );

  tool(
    'console_session_status',
    {
      title: 'Console: one session',
      description:
        "One session's state derived from its receipts: contract, counts, commits, flags, and pending_approvals (the calls waiting for a person, with their action ids). Fails with UNKNOWN_SESSION.",
      input: z.object({ session_id: sessionId }),
      annotations: readOnly,
    },
    () => ({ capability: 'read', scroll: CONSOLE }),
    (input) => ({ result: sessionState(ledger, input.session_id, new Date()) }),
  );

  tool(
    'console_receipts_search',
    {
      title: 'Console: receipts',
      description:
        'Receipts of the console scroll, newest first: of one session and of some types when given.',
      input: consoleSearchInput,
      annotations: readOnly,
    },
    () => ({ capability: 'read', scroll: CONSOLE }),
    (input) => {
      const scroll = getScroll(CONSOLE);
      for (const type of input.type ?? []) getReceiptType(scroll, type);
      const receipts = ledger.query(CONSOLE, {
        ...(input.session_id === undefined ? {} : { session: input.session_id }),
        ...(input.type === undefined ? {} : { types: input.type }),
        limit: input.limit,
        reverse: true,
      });
      return { result: receipts };
    },
  );

  tool(
    'console_approve_action',
    {
      title: 'Console: decide a held call',
      description:
        "Approves or refuses a call an agent's session contract holds for a person; the approver recorded is the token's subject. Needs admin on the console scroll. Fails with UNKNOWN_ACTION, or ACTION_DECIDED when it was decided or expired already.",
      input: approveInput,
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    () => ({ capability: 'admin', scroll: CONSOLE }),
    async (input, who) => ({
      result: await decideAction(
        ledger,
        input.action_id,
        { approved: input.approved, reason: input.reason, approver: who.claims?.sub ?? 'anonymous' },
        new Date(),
      ),
    }),
  );

  tool(
    'console_spawn_agent',
    {
      title: 'Console: start an agent',
      description:
        "Starts a coding agent (claude or opencode) on the node's machine under a session contract, its hooks aimed at this node; returns at once with the session id and process id (follow it with console_session_status). Needs admin on the console scroll. Fails with AGENT_NOT_FOUND when the agent is not installed there.",
      input: spawnInput,
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: true,
      },
    },
    () => ({ capability: 'admin', scroll: CONSOLE }),
    async (input, who) => {
      const spawned = await spawnAgent(
        ledger,
        {
          agent: input.agent,
          task: input.task,
          project: input.project_path ?? process.cwd(),
          caller: who.claims?.sub ?? 'anonymous',
          constraints: input.constraints ?? {},
        },
        { env: process.env, now: new Date(), stdio: 'ignore' },
      );
      // Nobody waits for the agent here. If recording its end fails, the audit shows the session
      // as never ended, which is the truth the ledger can tell.
      spawned.exit.catch(() => undefined);
      return {
        result: { session_id: spawned.session_id, agent: spawned.agent, pid: spawned.pid },
      };
    },
  );

  for (const engine of ENGINE_SURFACES) {
    const scroll = engine.scroll.name;
    // A local operation takes paths on the caller's machine, which a remote caller does not share.
    for (const operation of engine.operations.filter((o) => o.local !== true)) {
      const capability = operationCapability(operation);
      tool(
        [engine.id, ...operationPath(operation)].join('_').replaceAll('-', '_'),
        {
          title: `${engine.title}: ${operation.name}`,
          description: `${engine.title}: ${operation.summary}. Needs ${capability} on the ${scroll} scroll.`,
          input: operation.input,
          annotations: operation.access === 'read' ? readOnly : { readOnlyHint: false, openWorldHint: false },
        },
        () => ({ capability, scroll }),
        async (input) => {
          const output: unknown = await operation.run(
            { ledger, clock: () => new Date(), cwd: process.cwd() },
            input,
          );
          return { result: output, failed: (output as { ok?: unknown } | null)?.ok === false };
        },
      );
    }
  }

  return server;
}

/** A date means its whole day, as on the command line: `to: 2026-11-30` includes the 30th. */
function timeBound(value: string, end: boolean): string {
  if (day.safeParse(value).success) {
    const start = Date.parse(`${value}T00:00:00Z`);
    return new Date(end ? start + 86_400_000 : start).toISOString();
  }
  return new Date(value).toISOString();
}

function reply(outcome: Outcome): CallToolResult {
  const { result } = outcome;
  // structuredContent must be an object; a list is wrapped so clients that read only it get it too.
  const structured =
    typeof result === 'object' && result !== null && !Array.isArray(result)
      ? (result as Record<string, unknown>)
      : { result };
  return {
    content: [{ type: 'text', text: JSON.stringify(result, null, 2) }],
    structuredContent: structured,
    ...(outcome.failed === true ? { isError: true } : {}),
  };
}

function refusal(error: VaultMeshError): CallToolResult {
  const hint = error.hint === undefined ? '' : `\n  hint: ${error.hint}`;
  return {
    content: [{ type: 'text', text: `error[${error.code}]: ${error.message}${hint}` }],
    structuredContent: { error: error.toJSON() },
    isError: true,
  };
}

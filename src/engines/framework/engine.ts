/**
 * The one shape every engine has (DESIGN §6, the seeds' Eternal Pattern): a scroll, a contract
 * produced by `plan`, the shared stage runner, a `seal` that turns contract + state + outputs into
 * a receipt, and a query over its scroll. Engines declare their operations once; the CLI (and the
 * HTTP API and MCP server) are generated from those declarations.
 */
import type { z } from 'zod';
import type { Capability } from '../../core/capability-token.js';
import type { JsonObject } from '../../core/canonical.js';
import type { RunState, StagedContract } from '../../core/runner.js';
import type { ScrollDefinition } from '../../core/scrolls/index.js';
import type { TableRows } from '../../core/table.js';
import type { Artifact } from '../../ledger/case-store.js';
import type { Ledger } from '../../ledger/ledger.js';

/** What an operation runs against: the ledger, the clock, and where relative file names resolve. */
export interface EngineContext {
  readonly ledger: Ledger;
  readonly clock: () => Date;
  readonly cwd: string;
}

export interface PlanContext {
  readonly now: Date;
  /** The run id to use; engines derive one from the time when it is absent. */
  readonly id?: string;
}

/** Where the sealed case lives, and the one hash that pins all of it. */
export interface SealFacts {
  /** `cases/<engine>/<id>`, relative to the data directory. */
  readonly caseDir: string;
  readonly proofPath: string;
  readonly artifactsManifest: string;
  /** `blake3:` of ARTIFACTS.sha256, which lists the sha256 of every file in the case. */
  readonly manifestHash: string;
  readonly artifacts: readonly Artifact[];
}

export interface SealedReceipt {
  readonly type: string;
  readonly body: JsonObject;
  readonly tags: readonly string[];
}

/** An engine-specific query filter on a body field, e.g. drills' `--domain` on `domains`. */
export interface QueryFilter {
  readonly option: string;
  readonly description: string;
  readonly field: string;
  readonly match: 'equals' | 'contains';
}

export interface CliArgument {
  readonly field: string;
  readonly name: string;
  readonly description?: string;
  readonly variadic?: boolean;
  readonly optional?: boolean;
}

export interface CliOption {
  readonly field: string;
  /** Commander flags, e.g. `--reason <text>` or `--explain`. */
  readonly flags: string;
  readonly description: string;
}

/**
 * One thing a user can do with an engine. The input schema is the contract of every interface:
 * the CLI maps its arguments onto it, HTTP and MCP take it as JSON.
 */
export interface Operation<I = never, O = unknown> {
  readonly name: string;
  readonly summary: string;
  /** Writes need the `storage` capability on the engine's scroll when a remote caller asks. */
  readonly access: 'read' | 'write';
  /** What a remote caller's token must grant, if more than `read`/`storage` on the scroll (e.g. `admin`). */
  readonly capability?: Capability;
  /**
   * The operation reads or writes files by path on the caller's machine (a contract file, outputs,
   * evidence): it is offered on the command line only, never to remote callers.
   */
  readonly local?: boolean;
  readonly input: z.ZodType<I>;
  readonly cli: { readonly arguments?: readonly CliArgument[]; readonly options?: readonly CliOption[] };
  /** An output with `ok: false` is a failed check: interfaces report it as such (exit 4, not 200). */
  run(context: EngineContext, input: I): Promise<O>;
  human(output: O): string;
  /** A result that is a list gives its columns and rows, for `--format csv`. */
  rows?(output: O): TableRows;
}

/** An operation whose input and output types have been checked where it was defined. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOperation = Operation<any, any>;

/** A complete run the design gate drives the engine through: intent in, a file for each stage. */
export interface GateExample<I> {
  readonly intent: I;
  readonly output: { readonly name: string; readonly text: string };
}

/**
 * What every interface needs of an engine: its command name, its scroll and its operations. An
 * operation named with a space (`node list`) is a nested command: `vm mesh node list`,
 * `/v1/engines/mesh/node/list`, the MCP tool `mesh_node_list`.
 */
export interface EngineSurface {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly scroll: ScrollDefinition;
  readonly operations: readonly AnyOperation[];
}

export interface EngineSpec<C extends StagedContract, I> {
  /** Command name and `cases/<id>/` directory, e.g. `drills`. */
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly scroll: ScrollDefinition;
  /** `drill` gives `drill_id`, `drill_state.json` and `--drill <id>`. */
  readonly runNoun: string;
  readonly contract: z.ZodType<C>;
  plan(intent: I, context: PlanContext): C;
  /** Pure: the receipt a finished run becomes. Its body carries `<runNoun>_id`. */
  seal(contract: C, state: RunState, facts: SealFacts): SealedReceipt;
  readonly queryFilters: readonly QueryFilter[];
  /** Body fields the query's optional `[pattern]` argument searches. */
  readonly searchFields?: readonly string[];
  readonly example: GateExample<I>;
}

export interface Engine<C extends StagedContract = StagedContract, I = unknown>
  extends EngineSpec<C, I>, EngineSurface {
  readonly runIdField: string;
}

export function defineEngine<C extends StagedContract, I>(
  spec: EngineSpec<C, I>,
  operations: (engine: Engine<C, I>) => readonly AnyOperation[],
): Engine<C, I> {
  const engine = { ...spec, runIdField: `${spec.runNoun}_id`, operations: [] as readonly AnyOperation[] };
  engine.operations = operations(engine);
  return engine;
}

/**
 * An engine whose state is a fold of its scroll (balances, DID documents, a topology) rather than
 * staged runs: it is its operations over the ledger.
 */
export function defineLedgerEngine(
  spec: Omit<EngineSurface, 'operations'>,
  operations: readonly AnyOperation[],
): EngineSurface {
  return { ...spec, operations };
}

/** `node list` -> [`node`, `list`]: the path of an operation's command. */
export function operationPath(operation: AnyOperation): string[] {
  return operation.name.split(' ');
}

export function defineOperation<I, O>(operation: Operation<I, O>): AnyOperation {
  return operation;
}

/** The capability a remote caller needs for an operation. */
export function operationCapability(operation: AnyOperation): Capability {
  return operation.capability ?? (operation.access === 'read' ? 'read' : 'storage');
}

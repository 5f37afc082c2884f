/**
 * `vm` (alias `vaultmesh`): the command line over the ledger. Command implementations load on
 * demand so that `vm --version` and `vm help` start as fast as Node itself.
 */
import { Command, CommanderError, Option } from 'commander';
import { VERSION } from '../version.js';
import { VaultMeshError } from '../../core/errors.js';
import type { EngineSurface } from '../../engines/framework/engine.js';
import type * as ActionsModule from './actions.js';
import { addEngineCommands, CSV_COMMANDS } from './engine-commands.js';
import { csvUnsupported, OUTPUT_FORMATS, reportError, type OutputFormat } from './output.js';

export interface GlobalOptions {
  data?: string;
  format: OutputFormat;
}

type Actions = typeof ActionsModule;

function run<A extends unknown[]>(
  handler: (actions: Actions, globals: GlobalOptions, ...args: A) => Promise<void>,
) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const globals = command.optsWithGlobals<GlobalOptions>();
    const actions = await import('./actions.js');
    await handler(actions, globals, ...(args.slice(0, -1) as A));
  };
}

/**
 * `engineCommand`: the invocation runs an engine's command, whose own options may include
 * `--version` (vm remembrancer record --version 1.4.2); the program's version flag would take it.
 */
export function buildProgram(engines: readonly EngineSurface[] = [], engineCommand = false): Command {
  const program = new Command('vm').description('VaultMesh: a tamper-evident ledger of receipts');
  if (!engineCommand) program.version(VERSION, '-V, --version');
  program
    .addOption(new Option('--data <dir>', 'data directory (default: $VAULTMESH_DATA or ./vaultmesh-data)'))
    .addOption(new Option('--format <format>', 'output format').choices(OUTPUT_FORMATS).default('human'))
    // Parse errors are reported like every other error (code, hint, --format) by main().
    .configureOutput({ outputError: () => undefined })
    .exitOverride();

  program
    .command('init')
    .description('create a data directory: layout, node key, DID, config, empty checkpoints')
    .argument('[dir]', 'directory to create (default: the data directory)')
    .option('--name <name>', 'node name, used in the DID and the checkpoint origin (default: host name)')
    .action(run((a, g, dir: string | undefined, o: { name?: string }) => a.init(g, dir, o)));

  program
    .command('start')
    .description('initialize the default data directory if needed and show the node and its scrolls')
    .action(run((a, g) => a.start(g)));

  program
    .command('scrolls')
    .description('list the scrolls with their files, sizes and roots')
    .action(run((a, g) => a.root(g, undefined)));

  program
    .command('types')
    .description('list the receipt types of a scroll (or of all scrolls)')
    .argument('[scroll]')
    .action(run((a, g, scroll: string | undefined) => a.types(g, scroll)));

  program
    .command('emit')
    .description('append a receipt to a scroll and publish a new signed checkpoint')
    .argument('<scroll>')
    .argument('<type>')
    .requiredOption('--body <json>', 'the receipt body: JSON, @file, or @- for standard input')
    .option('--tags <tags>', 'comma-separated tags')
    .option('--session <id>', 'session id (console receipts)')
    .action(
      run((a, g, scroll: string, type: string, o: { body: string; tags?: string; session?: string }) =>
        a.emit(g, scroll, type, o),
      ),
    );

  program
    .command('receipts')
    .description('query a scroll by type, time, tags and body fields')
    .argument('<scroll>')
    .option('--type <type...>', 'receipt type(s)')
    .option('--from <time>', 'at or after this time (ISO 8601 or YYYY-MM-DD)')
    .option('--to <time>', 'before this time; a date includes the whole day')
    .option('--tag <tag...>', 'tag(s) that must all be present')
    .option('--where <field=value...>', 'body field equals value (dots for nested fields)')
    .option('--limit <n>', 'at most n receipts', '100')
    .option('--reverse', 'newest first')
    .action(run((a, g, scroll: string, o: Parameters<Actions['receipts']>[2]) => a.receipts(g, scroll, o)));

  program
    .command('root')
    .description("show each scroll's size, Merkle root and checkpoint")
    .argument('[scroll]')
    .action(run((a, g, scroll: string | undefined) => a.root(g, scroll)));

  program
    .command('checkpoint')
    .description("publish (if the scroll grew) and print the scroll's signed checkpoint")
    .argument('<scroll>')
    .action(run((a, g, scroll: string) => a.checkpoint(g, scroll)));

  program
    .command('vkey')
    .description("print the node's verifier key (give it to whoever verifies bundles)")
    .action(run((a, g) => a.vkey(g)));

  program
    .command('proof')
    .description('write a self-contained proof bundle for one receipt')
    .argument('<scroll>')
    .argument('<seq>')
    .option('-o, --output <file>', 'write the bundle to a file instead of stdout')
    .action(run((a, g, scroll: string, seq: string, o: { output?: string }) => a.proof(g, scroll, seq, o)));

  program
    .command('verify')
    .description('recompute every leaf and root; check sidecars, ROOT files and checkpoint signatures')
    .argument('[scroll]')
    .option('--deep', 'also re-check every receipt: canonical form, schema and body hash')
    .action(run((a, g, scroll: string | undefined, o: { deep?: boolean }) => a.verify(g, scroll, o)));

  program
    .command('verify-bundle')
    .description('verify a proof bundle offline')
    .argument('<file>', 'bundle file, or - for standard input')
    .option('--vkey <vkey>', "the node's verifier key (default: the data directory's)")
    .option('--tsa-ca <file>', 'trust anchors (PEM) for RFC 3161 tokens in the anchor')
    .action(run((a, g, file: string, o: { vkey?: string; tsaCa?: string }) => a.verifyBundle(g, file, o)));

  program
    .command('consistency')
    .description('prove that the scroll at old-size is a prefix of the scroll at new-size')
    .argument('<scroll>')
    .argument('<old-size>')
    .argument('[new-size]')
    .action(
      run((a, g, scroll: string, oldSize: string, newSize: string | undefined) =>
        a.consistency(g, scroll, oldSize, newSize),
      ),
    );

  program
    .command('import')
    .description('import legacy JSONL: each object becomes a receipt body')
    .argument('<file>')
    .requiredOption('--scroll <scroll>')
    .option('--type <type>', 'receipt type for objects without a "type" field')
    .action(run((a, g, file: string, o: { scroll: string; type?: string }) => a.importFile(g, file, o)));

  program
    .command('reindex')
    .description('rebuild the sidecars and query index from the JSONL')
    .argument('[scroll]')
    .action(run((a, g, scroll: string | undefined) => a.reindex(g, scroll)));

  program
    .command('serve')
    .description(
      'run a node on the data directory (created if missing): HTTP API, tiles, metrics, MCP at /mcp',
    )
    .option('--host <host>', 'address to listen on (default: http.host in vaultmesh.toml, 127.0.0.1)')
    .option('--port <port>', 'port to listen on, 0 for any free one (default: http.port, 9110)')
    .action(run((a, g, o: { host?: string; port?: string }) => a.serve(g, o)));

  const guardian = program
    .command('guardian')
    .description(
      'anchor the scrolls to outside time (RFC 3161, OpenTimestamps, Ethereum) and watch for divergence',
    );
  const guardianActions = () => import('./guardian.js');
  const consoleCommand = program
    .command('console')
    .description('AI coding-agent sessions: hooks, sessions, approvals, audit (the Console scroll)');
  const consoleActions = () => import('./console.js');
  consoleCommand
    .command('hook')
    .description("handle one agent hook event from stdin (what Claude Code's hooks run; see install-hooks)")
    .option('--node <url>', 'the node to hand events to (default: $VAULTMESH_URL or http://127.0.0.1:9110)')
    .option(
      '--token-file <file>',
      'a file holding the token (default: $VAULTMESH_TOKEN_FILE or $VAULTMESH_TOKEN)',
    )
    .option('--wait <seconds>', 'how long a call may wait for an approval before it is denied')
    .option('--fail-open', 'let calls run when the node cannot be reached (default: refuse them)')
    .option('--store-content', 'send prompt text too (the node keeps it only if [console] store_content)')
    .action(async () => {
      const { main: hook } = await import('../hooks/main.js');
      process.exitCode = await hook(process.argv.slice(process.argv.indexOf('hook') + 1));
    });
  consoleCommand
    .command('install-hooks')
    .description('write Claude Code hook settings that record every session event on this node')
    .option('--project <dir>', 'the project the agent works in', '.')
    .addOption(
      new Option(
        '--scope <scope>',
        'which settings file: .claude/settings.local.json, .claude/settings.json or ~/.claude/settings.json',
      )
        .choices(['local', 'project', 'user'])
        .default('local'),
    )
    .option('--node <url>', "the node the hooks talk to (default: this data directory's [http] address)")
    .action(
      run(async (_a, g, o: { project: string; scope: 'local' | 'project' | 'user'; node?: string }) =>
        (await consoleActions()).installHooks(g, o),
      ),
    );
  consoleCommand
    .command('spawn')
    .description('start an agent on a task under a session contract, its hooks aimed at this node')
    .argument('<agent>', 'claude or opencode')
    .requiredOption('--task <text>', 'what the agent is to do')
    .option('--project <dir>', 'the directory it works in', '.')
    .option('--model <id>', 'the model to ask the agent to use')
    .option('--bin <path>', "the agent's executable, if not on PATH under its usual name")
    .option('--caller <did>', 'who asks for the session (default: [console] approver or did:vm:human:<user>)')
    .option('--max-duration <minutes>', 'refuse calls after this many minutes')
    .option('--max-files <n>', 'refuse edits to more than n distinct files')
    .option(
      '--require-approval <rules...>',
      'action types or tool patterns that wait for a person, e.g. git_push "Bash(npm publish:*)"',
    )
    .option('--sandbox', 'refuse writes outside the project; every shell command waits for approval')
    .option('--node <url>', 'the node the hooks talk to')
    .action(
      run(
        async (
          _a,
          g,
          agent: string,
          o: Parameters<Awaited<ReturnType<typeof consoleActions>>['spawnCommand']>[2],
        ) => (await consoleActions()).spawnCommand(g, agent, o),
      ),
    );
  const session = consoleCommand.command('session').description('sessions, derived from their receipts');
  session
    .command('list')
    .description('sessions with their counts, pending approvals and flags')
    .addOption(
      new Option('--status <status>', 'only sessions in this state').choices(['active', 'ended', 'killed']),
    )
    .option('--agent-type <type>', 'only this agent, e.g. claude-code')
    .action(
      run(async (_a, g, o: { status?: 'active' | 'ended' | 'killed'; agentType?: string }) =>
        (await consoleActions()).sessionList(g, o),
      ),
    );
  session
    .command('show')
    .description("one session's state: counts, task, contract, approvals, flags")
    .argument('<session-id>')
    .action(run(async (_a, g, id: string) => (await consoleActions()).sessionShow(g, id)));
  session
    .command('kill')
    .description('end a session: its later calls are refused, and a process spawn started is stopped')
    .argument('<session-id>')
    .requiredOption('--reason <text>', 'why, for the record')
    .action(
      run(async (_a, g, id: string, o: { reason: string }) => (await consoleActions()).sessionKill(g, id, o)),
    );
  consoleCommand
    .command('approvals')
    .description('calls waiting for a person')
    .command('pending')
    .description('list the calls waiting for a person, oldest first')
    .action(run(async (_a, g) => (await consoleActions()).approvalsPending(g)));
  for (const [name, approved] of [
    ['approve', true],
    ['reject', false],
  ] as const) {
    consoleCommand
      .command(name)
      .description(
        `${approved ? 'approve' : 'reject'} a held call; the decision is bound to that call's arguments`,
      )
      .argument('<action-id>')
      .requiredOption('--reason <text>', 'why, for the record')
      .option('--approver <did>', 'who decides (default: [console] approver or did:vm:human:<user>)')
      .action(
        run(async (_a, g, id: string, o: { reason: string; approver?: string }) =>
          (await consoleActions()).decide(g, id, o, approved),
        ),
      );
  }
  consoleCommand
    .command('history')
    .description("a session's receipts in order")
    .requiredOption('--session <id>', 'the session')
    .option('--limit <n>', 'the last n receipts', '200')
    .action(
      run(async (_a, g, o: { session: string; limit: string }) => (await consoleActions()).history(g, o)),
    );
  consoleCommand
    .command('audit')
    .description('per session: constraints exceeded and gaps in the record; exit 4 when anything is found')
    .option('--date <YYYY-MM-DD>', 'sessions active that day')
    .option('--agent-type <type>', 'only this agent')
    .action(
      run(async (_a, g, o: { date?: string; agentType?: string }) => (await consoleActions()).audit(g, o)),
    );
  consoleCommand
    .command('receipts')
    .description('the newest Console receipts')
    .option('--limit <n>', 'at most n', '100')
    .option('--type <types...>', 'only these types')
    .action(
      run(async (_a, g, o: { limit: string; type?: string[] }) => (await consoleActions()).receipts(g, o)),
    );

  guardian
    .command('anchor-now')
    .description('run one anchor cycle: check divergence, sign checkpoints, anchor the combined root')
    .option('--scroll <scrolls...>', 'anchor only these scrolls')
    .option('--backend <names...>', 'use only these configured backends')
    .action(
      run(async (_a, g, o: { scroll?: string[]; backend?: string[] }) =>
        (await guardianActions()).anchorNow(g, o),
      ),
    );
  guardian
    .command('anchor-status')
    .description('last anchor per backend: root, time, age; stale anchors and failures flagged')
    .action(run(async (_a, g) => (await guardianActions()).status(g)));
  guardian
    .command('anchors')
    .description('anchor events, newest first')
    .option('--backend <name>', 'only this backend')
    .option('--since <time>', 'at or after this time (ISO 8601 or YYYY-MM-DD)')
    .option('--limit <n>', 'at most n', '50')
    .action(
      run(async (_a, g, o: { backend?: string; since?: string; limit: string }) =>
        (await guardianActions()).anchors(g, o),
      ),
    );
  guardian
    .command('upgrade')
    .description('complete pending evidence (OpenTimestamps attestations)')
    .action(run(async (_a, g) => (await guardianActions()).upgrade(g)));
  guardian
    .command('verify')
    .description(
      "re-verify an anchor (default: the latest) against its backends' evidence and the scrolls now",
    )
    .argument('[anchor-id]')
    .action(run(async (_a, g, id: string | undefined) => (await guardianActions()).verify(g, id)));
  guardian
    .command('run')
    .description('anchor on a schedule until stopped (vm serve does this when [guardian] interval is set)')
    .requiredOption('--every <duration>', 'e.g. 10m')
    .action(run(async (_a, g, o: { every: string }) => (await guardianActions()).run(g, o)));

  program
    .command('mcp')
    .description('serve MCP over stdio for a local agent; writes need a token in $VAULTMESH_TOKEN')
    .action(run((a, g) => a.mcp(g)));

  const token = program.command('token').description('capability tokens for the HTTP API and MCP');
  token
    .command('create')
    .description('issue a bearer token (recorded in the Identity scroll; the token itself is shown once)')
    .requiredOption('--subject <name>', 'who holds it, e.g. did:vm:agent:ci or a person')
    .requiredOption('--grant <grants...>', 'capability[:scroll], e.g. storage:treasury, anchor, read, admin')
    .option('--expires <duration>', 'lifetime: 30d, 12h, 45m', '30d')
    .action(run((a, g, o: { subject: string; grant: string[]; expires: string }) => a.tokenCreate(g, o)));
  token
    .command('revoke')
    .description('revoke a token by id; the node refuses it from then on')
    .argument('<id>')
    .requiredOption('--reason <text>', 'why (goes into the receipt)')
    .action(run((a, g, id: string, o: { reason: string }) => a.tokenRevoke(g, id, o)));
  token
    .command('list')
    .description('tokens issued by this node, with their grants and state')
    .action(run((a, g) => a.tokenList(g)));

  program
    .command('gate')
    .description("run the design gate: every engine's full lifecycle in a scratch data directory")
    .argument('[engine]', 'check only this engine')
    .action(run((a, g, engine: string | undefined) => a.gate(g, engine)));

  program
    .command('engine')
    .description('engine development')
    .command('new')
    .description(
      'scaffold a new engine (scroll, contract, runner, seal, query, CLI, tests) in a source checkout',
    )
    .argument('<name>', 'engine name: lower-case letters, digits and dashes, e.g. incidents')
    .option('--root <dir>', 'the VaultMesh source checkout (default: the current directory)')
    .option('--noun <noun>', 'what one run is called (default: run)')
    .action(run((a, g, name: string, o: { root?: string; noun?: string }) => a.engineNew(g, name, o)));

  addEngineCommands(program, engines);
  program.hook('preAction', (_, action) => {
    if (program.opts<GlobalOptions>().format === 'csv' && !CSV_COMMANDS.has(action)) throw csvUnsupported();
  });

  program
    .command('completion')
    .description('print a shell completion script: eval "$(vm completion bash)"')
    .argument('<shell>', 'bash or zsh')
    .action(async (shell: string) => {
      const { completionScript } = await import('./completion.js');
      process.stdout.write(completionScript(program, shell));
    });

  return program;
}

/** Commands that never need the engines loaded: they start faster without them. */
const LEDGER_COMMANDS = new Set([
  'init',
  'start',
  'scrolls',
  'types',
  'emit',
  'receipts',
  'root',
  'checkpoint',
  'vkey',
  'proof',
  'verify',
  'verify-bundle',
  'consistency',
  'import',
  'reindex',
  'gate',
  'engine',
  'token',
  'serve',
  'mcp',
  'guardian',
  'console',
]);

function firstCommand(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--data' || arg === '--format') i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

async function enginesFor(
  args: readonly string[],
  command: string | undefined,
): Promise<readonly EngineSurface[]> {
  const versionOnly = command === undefined && args.some((a) => a === '-V' || a === '--version');
  if (versionOnly || (command !== undefined && LEDGER_COMMANDS.has(command))) return [];
  return (await import('../../engines/registry.js')).ENGINE_SURFACES;
}

export async function main(argv: readonly string[]): Promise<number> {
  const command = firstCommand(argv.slice(2));
  const engines = await enginesFor(argv.slice(2), command);
  const program = buildProgram(
    engines,
    engines.some((e) => e.id === command),
  );
  try {
    await program.parseAsync(argv as string[]);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (error) {
    const chosen = program.opts<GlobalOptions>().format;
    const format: OutputFormat = OUTPUT_FORMATS.includes(chosen) ? chosen : 'human';
    if (error instanceof CommanderError) {
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code)) return 0;
      const usage = new VaultMeshError('USAGE', error.message.replace(/^error: /, ''), {
        hint: 'see the commands and their options with: vm --help, or vm <command> --help',
      });
      return reportError(format, usage);
    }
    if (error instanceof VaultMeshError) return reportError(format, error);
    const internal = new VaultMeshError('INTERNAL', (error as Error)?.stack ?? String(error), {
      hint: 'this is a bug in VaultMesh; please report it with the command you ran',
    });
    return reportError(format, internal);
  }
}

/**
 * `vm <engine> <operation>` for every registered engine, generated from the operations' declarations:
 * arguments and options map onto the operation's input schema, which validates them and names the
 * flag at fault.
 */
import { Command, Option } from 'commander';
import { operationPath, type AnyOperation, type EngineSurface } from '../../engines/framework/engine.js';
import { parseOperationInput } from '../../engines/framework/input.js';
import type { GlobalOptions } from './main.js';

/** The commands whose result is a list, which `--format csv` can write. */
export const CSV_COMMANDS = new WeakSet<Command>();

function commandFor(operation: AnyOperation, name: string): Command {
  const command = new Command(name).description(operation.summary);
  if (operation.rows !== undefined) CSV_COMMANDS.add(command);
  const args = operation.cli.arguments ?? [];
  const options = operation.cli.options ?? [];
  for (const a of args) {
    const name = `${a.name}${a.variadic ? '...' : ''}`;
    command.argument(a.optional ? `[${name}]` : `<${name}>`, a.description);
  }
  for (const o of options) command.addOption(new Option(o.flags, o.description));
  command.action(async (...received: unknown[]) => {
    const self = received[received.length - 1] as Command;
    const globals = self.optsWithGlobals<GlobalOptions>();
    // An operation that is also a group (`mesh topology` over `mesh topology show`) takes the
    // options it shares with its subcommand wherever they stand: the subcommand reads them there.
    const own = self.opts<Record<string, unknown>>();
    const inherited = self.parent?.opts<Record<string, unknown>>() ?? {};
    const flags = (key: string) => own[key] ?? inherited[key];
    const raw: Record<string, unknown> = {};
    args.forEach((a, i) => {
      if (received[i] !== undefined) raw[a.field] = received[i];
    });
    for (const o of options) {
      const value = flags(optionKey(o.flags));
      if (value !== undefined) raw[o.field] = value;
    }
    const labels = new Map<string, string>([
      ...args.map((a) => [a.field, `<${a.name}>`] as const),
      ...options.map((o) => [o.field, longFlag(o.flags)] as const),
    ]);
    const input = parseOperationInput(operation, raw, (field) => labels.get(field) ?? field);
    const { runOperation } = await import('./actions.js');
    await runOperation(globals, operation, input);
  });
  return command;
}

function longFlag(flags: string): string {
  return /--[a-z0-9-]+/.exec(flags)?.[0] ?? flags;
}

/** Commander's property name for an option: `--complete-stage` -> `completeStage`. */
function optionKey(flags: string): string {
  return longFlag(flags)
    .slice(2)
    .replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A group command (`vm mesh node`) is made once, by the first operation under it. */
function groupFor(parent: Command, name: string): Command {
  return (
    parent.commands.find((c) => c.name() === name) ?? parent.command(name).description(`${name} commands`)
  );
}

export function addEngineCommands(program: Command, engines: readonly EngineSurface[]): void {
  for (const engine of engines) {
    const group = program.command(engine.id).description(engine.description);
    for (const operation of engine.operations) {
      const path = operationPath(operation);
      const parent = path.slice(0, -1).reduce(groupFor, group);
      parent.addCommand(commandFor(operation, path.at(-1)!));
    }
  }
}

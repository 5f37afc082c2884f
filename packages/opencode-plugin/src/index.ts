/**
 * @vaultmesh/opencode-plugin: records an OpenCode session in a VaultMesh node's Console scroll,
 * the same events the Claude Code hook (`vm console hook`) sends, and lets the node's policy
 * refuse or hold a tool call before it runs.
 *
 * The module exports the plugin and nothing else: OpenCode calls every function a plugin module
 * exports as a plugin (the same function exported twice is called once).
 */
import { DEFAULT_NODE_URL } from './node-client.js';
import type { Plugin } from './opencode.js';
import { ConsoleRecorder, logFailure } from './recorder.js';
import { SessionBook } from './sessions.js';

/** Wraps a hook whose failure must never reach OpenCode: it is logged and the agent carries on. */
function failOpen<A extends unknown[]>(what: string, hook: (...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    try {
      await hook(...args);
    } catch (error) {
      logFailure(`${what} not recorded`, error);
    }
  };
}

export const VaultMeshConsolePlugin: Plugin = async ({ directory }) => {
  const recorder = new ConsoleRecorder(
    { url: process.env.VAULTMESH_URL ?? DEFAULT_NODE_URL, token: process.env.VAULTMESH_TOKEN },
    directory,
    new SessionBook(process.env.VAULTMESH_SESSION_ID),
  );
  return {
    event: failOpen('event', ({ event }) => recorder.onEvent(event)),
    'chat.message': failOpen('prompt', (input, output) => recorder.prompt(input, output)),
    'tool.execute.before': (input, output) => recorder.toolBefore(input, output.args),
    'tool.execute.after': failOpen('tool result', (input, output) => recorder.toolAfter(input, output)),
  };
};

export default VaultMeshConsolePlugin;

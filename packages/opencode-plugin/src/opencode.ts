/**
 * The part of OpenCode's plugin API this plugin uses, written out so the package does not depend
 * on @opencode-ai/plugin (README, "Custom tools"). Taken from the OpenCode repository
 * (anomalyco/opencode, formerly sst/opencode): packages/plugin/src/index.ts for `PluginInput` and
 * `Hooks`, packages/sdk/js/src/gen/types.gen.ts for the bus events and message parts. Everything
 * OpenCode hands over is still checked at run time: it comes from another program.
 */

/** What OpenCode passes a plugin function (it also passes `project`, `client`, `$`, unused here). */
export interface PluginInput {
  /** The session's project directory: relative file paths of tools resolve against it. */
  directory: string;
}

/** `tool.execute.before` and `tool.execute.after` input; newer releases add `args` to the latter. */
export interface ToolCall {
  tool: string;
  sessionID: string;
  callID: string;
  args?: unknown;
}

/** `tool.execute.after` output: what the tool returned. */
export interface ToolResult {
  title: string;
  output: string;
  metadata: unknown;
}

/** `chat.message` input: a user message arrived for a session. */
export interface ChatMessageInput {
  sessionID: string;
  agent?: string;
  model?: { providerID: string; modelID: string };
  messageID?: string;
}

/** A message part, as far as this plugin reads one (`TextPart` and `ToolPart` in the SDK types). */
export interface Part {
  type: string;
  [field: string]: unknown;
}

/** One event of OpenCode's bus, e.g. `session.created` with `properties.info` (a `Session`). */
export interface BusEvent {
  type: string;
  properties?: unknown;
}

export interface Hooks {
  event: (input: { event: BusEvent }) => Promise<void>;
  'chat.message': (input: ChatMessageInput, output: { message: unknown; parts: Part[] }) => Promise<void>;
  /** Throwing refuses the call: OpenCode hands the error message to the model as the tool's result. */
  'tool.execute.before': (input: ToolCall, output: { args: unknown }) => Promise<void>;
  'tool.execute.after': (input: ToolCall, output: ToolResult) => Promise<void>;
}

export type Plugin = (input: PluginInput) => Promise<Hooks>;

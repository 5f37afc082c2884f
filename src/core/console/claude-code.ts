/** The Claude Code hook events the Console records (its hooks reference), in the order a session meets them. */
export const CLAUDE_CODE_EVENTS = [
  'SessionStart',
  'UserPromptSubmit',
  'PreToolUse',
  'PostToolUse',
  'PostToolUseFailure',
  'Stop',
  'SubagentStop',
  'SessionEnd',
] as const;
export type ClaudeCodeEvent = (typeof CLAUDE_CODE_EVENTS)[number];

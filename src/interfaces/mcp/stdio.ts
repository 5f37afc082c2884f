/**
 * The MCP server over stdio, for an agent that runs the node's data directory as a local tool.
 * stdout carries protocol messages only; everything else goes to stderr.
 */
import { finished } from 'node:stream/promises';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { Ledger } from '../../ledger/ledger.js';
import { Access } from '../access.js';
import { configuredBackends, guardianConfig } from '../../engines/guardian/config.js';
import { runAnchorCycle } from '../../engines/guardian/cycle.js';
import { createMcpServer } from './server.js';

const ORIGIN = 'mcp stdio';

/**
 * Serves one MCP session on stdin/stdout until stdin ends, then closes the ledger. Reads are open;
 * writes need the token given at startup, which is checked before anything is served and again on
 * every call, so a token revoked or expired during a long session stops working at once.
 * @throws VaultMeshError TOKEN_INVALID, TOKEN_EXPIRED or TOKEN_REVOKED at startup (recorded as an
 *   `identity_authz_decision` receipt).
 */
export async function serveStdio(options: {
  dataDir: string;
  token?: string;
  version: string;
}): Promise<void> {
  const ledger = Ledger.open(options.dataDir);
  try {
    const access = new Access(ledger, { reads: 'open' });
    const caller = (action: string) => access.authenticate(options.token, ORIGIN, action);
    await caller('mcp start');
    const config = guardianConfig(ledger);
    const backends = configuredBackends(ledger, config, () => new Date());
    const guardian = { config, backends, cycle: () => runAnchorCycle(ledger, config, backends) };
    const server = createMcpServer({ ledger, access, caller, version: options.version, guardian });
    const transport = new StdioServerTransport();
    await server.connect(transport);
    const answered = trackReplies(transport);
    // The SDK's transport does not notice the end of stdin; that is the end of the session.
    await finished(process.stdin);
    await answered();
    await server.close();
  } finally {
    await ledger.close();
  }
}

/**
 * A client may write its requests and end stdin straight away (`printf ... | vm mcp`): the replies
 * are still owed, and closing the server would abort them. The returned function resolves once
 * every request received has been answered (or cancelled by the client).
 */
function trackReplies(transport: StdioServerTransport): () => Promise<void> {
  const owed = new Set<RequestId>();
  let settle: (() => void) | undefined;
  const done = (id: RequestId | undefined) => {
    if (id !== undefined) owed.delete(id);
    if (owed.size === 0) settle?.();
  };
  const receive = transport.onmessage;
  transport.onmessage = (message) => {
    if (isJSONRPCRequest(message)) owed.add(message.id);
    receive?.(message);
    if (isJSONRPCNotification(message) && message.method === 'notifications/cancelled')
      done(message.params?.requestId as RequestId | undefined);
  };
  const send = transport.send.bind(transport);
  transport.send = async (message) => {
    await send(message);
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) done(message.id);
  };
  return () => (owed.size === 0 ? Promise.resolve() : new Promise((resolve) => (settle = resolve)));
}

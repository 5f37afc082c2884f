/**
 * Delivery of one Console event to a running VaultMesh node: `POST /v1/console/events` with the
 * operator's bearer token. Every failure becomes one `Error` whose message says what went wrong
 * in words a person can act on; the caller decides whether that refuses a call or is only logged.
 */
import { isRecord, type ConsoleEvent, type EventDecision } from './events.js';

export const DEFAULT_NODE_URL = 'http://127.0.0.1:9110';

export interface NodeAddress {
  url: string;
  token: string | undefined;
}

function describeFailure(node: NodeAddress, error: unknown, timeoutMs: number): string {
  const e = error as Error & { cause?: unknown };
  if (e.name === 'TimeoutError') return `no answer from ${node.url} within ${Math.round(timeoutMs / 1000)} s`;
  const cause = e.cause instanceof Error ? e.cause.message : e.message;
  return `cannot reach the VaultMesh node at ${node.url}: ${cause}`;
}

/** The node's `{error: {code, message, hint}}`, as one line. */
function refusal(status: number, body: unknown, text: string): string {
  const error = isRecord(body) && isRecord(body.error) ? body.error : {};
  const message = typeof error.message === 'string' ? error.message : text.slice(0, 200);
  const hint = typeof error.hint === 'string' ? `; ${error.hint}` : '';
  return `the node refused the event (${status} ${String(error.code ?? '')}): ${message}${hint}`;
}

export async function deliver(
  node: NodeAddress,
  event: ConsoleEvent,
  timeoutMs: number,
): Promise<EventDecision> {
  let status: number;
  let text: string;
  try {
    const response = await fetch(new URL('/v1/console/events', node.url), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(node.token === undefined ? {} : { authorization: `Bearer ${node.token}` }),
      },
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    throw new Error(describeFailure(node, error, timeoutMs));
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`the node answered ${status} with no JSON`);
  }
  if (status < 200 || status > 299) throw new Error(refusal(status, body, text));
  if (!isRecord(body) || (body.decision !== 'allow' && body.decision !== 'deny')) {
    throw new Error(`the node answered ${status} without a decision`);
  }
  return body as unknown as EventDecision;
}

/**
 * `vm console hook`: the command an agent runs for each of its hook events. It reads the event
 * from stdin, hashes what it must not send, hands the event to the node and answers in the agent's
 * documented form. It holds no signing key and never breaks the agent's session: a bad payload or
 * an unreachable node is reported on stderr with exit 1, which agents treat as a non-blocking
 * error. The one exception is a call about to run: without an answer from the policy it is
 * refused (unless --fail-open), because no answer in time means deny.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { ConsoleEvent, EventDecision } from '../../core/console/events.js';
import { denyOutput, HookInputError, toConsoleEvent } from './claude-code.js';
import { nextAgentSeq } from './local-facts.js';

export const DEFAULT_NODE_URL = 'http://127.0.0.1:9110';
/** How long a call may wait for a person, by default; `vm console install-hooks` writes the contract's. */
const DEFAULT_WAIT_SECONDS = 150;
const DELIVERY_TIMEOUT_MS = 5000;
const MAX_STDIN_BYTES = 16 * 1024 * 1024;

interface HookOptions {
  agent: string;
  node: string;
  token?: string;
  waitSeconds: number;
  failOpen: boolean;
  storeContent: boolean;
}

export interface HookResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): HookOptions {
  const options: HookOptions = {
    agent: 'claude-code',
    node: env.VAULTMESH_URL ?? DEFAULT_NODE_URL,
    waitSeconds: DEFAULT_WAIT_SECONDS,
    failOpen: false,
    storeContent: false,
  };
  let tokenFile = env.VAULTMESH_TOKEN_FILE;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new HookInputError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--agent') options.agent = value();
    else if (flag === '--node') options.node = value();
    else if (flag === '--token-file') tokenFile = value();
    else if (flag === '--wait') {
      const seconds = Number(value());
      if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600)
        throw new HookInputError('--wait must be whole seconds from 1 to 3600');
      options.waitSeconds = seconds;
    } else if (flag === '--fail-open') options.failOpen = true;
    else if (flag === '--store-content') options.storeContent = true;
    else
      throw new HookInputError(
        `unknown option ${flag} (options: --agent, --node, --token-file, --wait, --fail-open, --store-content)`,
      );
  }
  if (options.agent !== 'claude-code') {
    throw new HookInputError(
      `--agent ${options.agent} is not supported here: this hook speaks Claude Code's format (OpenCode uses the VaultMesh plugin)`,
    );
  }
  if (tokenFile !== undefined) options.token = readFileSync(tokenFile, 'utf8').trim();
  else if (env.VAULTMESH_TOKEN !== undefined) options.token = env.VAULTMESH_TOKEN;
  return options;
}

class DeliveryError extends Error {}

function deliver(event: ConsoleEvent, options: HookOptions, timeoutMs: number): Promise<EventDecision> {
  const body = JSON.stringify(event);
  const url = new URL('/v1/console/events', options.node);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        timeout: timeoutMs,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            return reject(new DeliveryError(`the node answered ${res.statusCode} with no JSON`));
          }
          if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300)
            return resolve(parsed as EventDecision);
          const error = (parsed as { error?: { code?: string; message?: string; hint?: string } }).error;
          reject(
            new DeliveryError(
              `the node refused the event (${res.statusCode} ${error?.code ?? ''}): ${error?.message ?? text}${error?.hint ? `; ${error.hint}` : ''}`,
            ),
          );
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(
        new DeliveryError(`no answer from ${options.node} within ${Math.round(timeoutMs / 1000)} s`),
      ),
    );
    req.on('error', (e) =>
      reject(
        e instanceof DeliveryError
          ? e
          : new DeliveryError(`cannot reach the VaultMesh node at ${options.node}: ${e.message}`),
      ),
    );
    req.end(body);
  });
}

function readStdin(): string {
  const text = readFileSync(0);
  if (text.length > MAX_STDIN_BYTES)
    throw new HookInputError(`the hook payload is larger than ${MAX_STDIN_BYTES} bytes`);
  return text.toString('utf8');
}

/** One hook invocation, as a result rather than a side effect, so it can be tested in-process too. */
export async function runHook(
  argv: readonly string[],
  stdin: () => string,
  env: NodeJS.ProcessEnv,
  now: () => Date,
): Promise<HookResult> {
  let options: HookOptions;
  let event: ConsoleEvent;
  try {
    options = parseArgs(argv, env);
    let payload: unknown;
    try {
      payload = JSON.parse(stdin());
    } catch (e) {
      throw e instanceof HookInputError
        ? e
        : new HookInputError(`the hook payload is not JSON: ${(e as Error).message}`);
    }
    // Only an event that could be read takes a number: a malformed payload is not a lost event.
    const read = toConsoleEvent(payload, { now: now(), storeContent: options.storeContent });
    const agentSeq = nextAgentSeq(read.session_id, env);
    event = agentSeq === undefined ? read : { ...read, agent_seq: agentSeq };
  } catch (e) {
    if (e instanceof HookInputError)
      return { exitCode: 1, stdout: '', stderr: `vaultmesh hook: ${e.message}\n` };
    return {
      exitCode: 1,
      stdout: '',
      stderr: `vaultmesh hook: cannot read the event: ${(e as Error).message}\n`,
    };
  }
  const gate = event.event === 'tool_pre';
  try {
    const answer = await deliver(event, options, gate ? options.waitSeconds * 1000 : DELIVERY_TIMEOUT_MS);
    if (gate && answer.decision === 'deny') {
      return {
        exitCode: 0,
        stdout: `${denyOutput(answer.reason ?? 'denied by VaultMesh policy')}\n`,
        stderr: '',
      };
    }
    return { exitCode: 0, stdout: '', stderr: '' };
  } catch (e) {
    const message = (e as Error).message;
    if (gate && !options.failOpen) {
      return {
        exitCode: 0,
        stdout: `${denyOutput(`VaultMesh could not decide on this call (${message}); calls are refused until the node answers`)}\n`,
        stderr: '',
      };
    }
    return { exitCode: 1, stdout: '', stderr: `vaultmesh hook: event not recorded: ${message}\n` };
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const result = await runHook(argv, readStdin, process.env, () => new Date());
  if (result.stdout !== '') process.stdout.write(result.stdout);
  if (result.stderr !== '') process.stderr.write(result.stderr);
  return result.exitCode;
}

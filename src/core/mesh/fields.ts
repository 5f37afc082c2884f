/**
 * The values a mesh receipt is made of: node DIDs (`did:vm:node:<id>`, the id a node name as
 * `vm init --name` allows), endpoint URLs in their normal form, and the hash that pins a node's
 * endpoints. Shared by the receipt schemas, the rules and the engine's input parsing.
 */
import { canonicalJson, type JsonValue } from '../canonical.js';
import { blake3Tagged } from '../hash.js';

export const NODE_ID_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const NODE_DID_PREFIX = 'did:vm:node:';
export const NODE_DID_RE = /^did:vm:node:[a-z0-9][a-z0-9._-]{0,62}$/;
/** Route, grant and snapshot ids. */
export const RECORD_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,159}$/;
export const ENDPOINT_NAME_RE = /^[a-z][a-z0-9-]{0,31}$/;
export const LABEL_RE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;

export const NODE_TYPES = ['infrastructure', 'gateway', 'edge', 'witness', 'storage', 'compute'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/** URL schemes an endpoint (and a route's transport) may use. */
export const TRANSPORTS = ['https', 'http', 'wss', 'ws', 'tcp', 'tls', 'grpc', 'grpcs'] as const;
export type Transport = (typeof TRANSPORTS)[number];
/** The schemes the URL standard gives a default port; the others must name one. */
const DEFAULT_PORT_SCHEMES = new Set(['https', 'http', 'wss', 'ws']);
const MAX_URL_CHARS = 2048;

export interface Endpoint {
  name: string;
  url: string;
}

export const NODE_ID_HINT =
  'a node id such as vault-02 (lower-case letters, digits, . _ -) or did:vm:node:vault-02';

/** `vault-02` or `did:vm:node:vault-02` as the node's DID; undefined when it is neither. */
export function nodeDidOf(ref: string): string | undefined {
  const did = ref.startsWith(NODE_DID_PREFIX) ? ref : `${NODE_DID_PREFIX}${ref}`;
  return NODE_DID_RE.test(did) ? did : undefined;
}

/** `did:vm:node:vault-02` -> `vault-02`. */
export function nodeIdOf(did: string): string {
  return did.startsWith(NODE_DID_PREFIX) ? did.slice(NODE_DID_PREFIX.length) : did;
}

/**
 * An endpoint URL in its normal form (the WHATWG URL serialization), or why it cannot be one.
 * Credentials are refused because a receipt is public and permanent.
 */
export function normalizeEndpointUrl(text: string): { url: string } | { problem: string } {
  if (text.length > MAX_URL_CHARS) return { problem: `is longer than ${MAX_URL_CHARS} characters` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: `"${text}" is not a URL (expected e.g. https://vault-02.example:9110)` };
  }
  const scheme = url.protocol.slice(0, -1);
  if (!(TRANSPORTS as readonly string[]).includes(scheme))
    return { problem: `scheme "${scheme}" is not one of ${TRANSPORTS.join(', ')}` };
  if (url.hostname === '') return { problem: `"${text}" names no host` };
  if (url.username !== '' || url.password !== '')
    return { problem: 'carries credentials; receipts are public, so leave them out of the URL' };
  if (url.hash !== '') return { problem: 'has a #fragment, which no endpoint uses' };
  if (!DEFAULT_PORT_SCHEMES.has(scheme) && url.port === '')
    return { problem: `needs a port: ${scheme} has no default one (e.g. ${scheme}://host:9000)` };
  return { url: url.href };
}

/** What a join receipt's `endpoints_hash` must be: BLAKE3 of the JCS of the endpoint list. */
export function endpointsHash(endpoints: readonly Endpoint[]): string {
  return blake3Tagged(canonicalJson(endpoints.map((e) => ({ name: e.name, url: e.url }))));
}

/** What a snapshot's `topology_hash` must be: BLAKE3 of the JCS of its nodes, routes and capabilities. */
export function topologyHash(topology: {
  nodes: unknown[];
  routes: unknown[];
  capabilities: unknown[];
}): string {
  return blake3Tagged(canonicalJson(topology as unknown as JsonValue));
}

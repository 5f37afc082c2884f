/**
 * A node's record as `vm mesh node join` takes it: a JSON config file (`--config node.json`, the
 * seed's shape), flags, or both (a flag wins over the file's field). On `--update` the fields given
 * by neither keep the member's current values.
 */
import { z } from 'zod';
import { VaultMeshError } from '../../core/errors.js';
import { nodeIdOf, type Endpoint } from '../../core/mesh/fields.js';
import type { NodeSpec } from '../../core/mesh/plan.js';
import type { MeshNode } from '../../core/mesh/state.js';
import { displayName, endpointList, labels, nodeType, region } from '../../core/scrolls/mesh.js';
import type { EngineContext } from '../framework/engine.js';
import { zodProblem } from '../framework/input.js';
import { readUserFile } from '../framework/user-files.js';
import { endpointNameInput, endpointUrlInput, nodeRef } from './inputs.js';

const MAX_CONFIG_BYTES = 1024 * 1024;

const CONFIG_EXAMPLE =
  '{"node_id": "vault-02", "display_name": "Vault 02", "node_type": "infrastructure", "endpoints": [{"name": "api", "url": "https://vault-02.example:9110"}]}';

export const nodeConfigSchema = z.strictObject({
  node_id: nodeRef.optional(),
  display_name: displayName.optional(),
  node_type: nodeType.optional(),
  endpoints: z.array(z.strictObject({ name: endpointNameInput, url: endpointUrlInput })).optional(),
  region: region.optional(),
  tags: labels.optional(),
});
export type NodeConfig = z.infer<typeof nodeConfigSchema>;

/** What the user gave, from flags and the config file, not yet completed from defaults. */
export interface NodeFields {
  node_id: string;
  display_name?: string;
  node_type?: NodeSpec['node_type'];
  endpoints?: Endpoint[];
  /** Where the endpoints came from, for errors: `--endpoint` or `node.json: endpoints`. */
  endpointsFrom: string;
  region?: string;
  tags?: string[];
}

export interface NodeFlags {
  config?: string;
  id?: string;
  name?: string;
  type?: NodeSpec['node_type'];
  endpoint?: Endpoint[];
  region?: string;
  tag?: string[];
}

const invalid = (message: string) =>
  new VaultMeshError('INVALID_NODE_CONFIG', message, {
    hint: `a node config is a JSON object such as ${CONFIG_EXAMPLE}`,
  });

/** @throws VaultMeshError FILE_MISSING, INVALID_NODE_CONFIG naming the file and the field. */
export function readNodeConfig(context: EngineContext, file: string): NodeConfig {
  const bytes = readUserFile(context, file, '--config', 'pass the path of a node config JSON file');
  if (bytes.length > MAX_CONFIG_BYTES) throw invalid(`${file} is larger than ${MAX_CONFIG_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw invalid(`${file} is not valid JSON: ${(cause as Error).message}`);
  }
  const parsed = nodeConfigSchema.safeParse(json);
  if (!parsed.success) throw invalid(`${file}: ${zodProblem(parsed.error)}`);
  return parsed.data;
}

export function nodeFields(context: EngineContext, flags: NodeFlags): NodeFields {
  const config = flags.config === undefined ? undefined : readNodeConfig(context, flags.config);
  const nodeId = flags.id ?? config?.node_id;
  if (nodeId === undefined) {
    throw new VaultMeshError('INVALID_ARGUMENT', '--id: required: the node to join', {
      hint: 'give --id vault-02, or node_id in the --config file',
    });
  }
  return {
    node_id: nodeId,
    display_name: flags.name ?? config?.display_name,
    node_type: flags.type ?? config?.node_type,
    endpoints: flags.endpoint ?? config?.endpoints,
    endpointsFrom: flags.endpoint !== undefined ? '--endpoint' : `${flags.config}: endpoints`,
    region: flags.region ?? config?.region,
    tags: flags.tag ?? config?.tags,
  };
}

/** The full record: the fields given, else the member's current values (`--update`), else defaults. */
export function nodeSpec(fields: NodeFields, current: MeshNode | undefined): NodeSpec {
  const endpoints = fields.endpoints ?? current?.endpoints;
  if (endpoints === undefined) {
    throw new VaultMeshError('INVALID_ARGUMENT', '--endpoint: required: a node needs at least one endpoint', {
      hint: 'give --endpoint api=https://vault-02.example:9110 (repeatable), or endpoints in the --config file',
    });
  }
  const list = endpointList.safeParse(endpoints);
  if (!list.success) {
    throw new VaultMeshError('INVALID_ARGUMENT', `${fields.endpointsFrom}: ${zodProblem(list.error)}`, {
      hint: 'each endpoint has its own name, e.g. --endpoint api=https://... gossip=wss://...',
    });
  }
  const region = fields.region ?? current?.region;
  return {
    node_id: fields.node_id,
    display_name: fields.display_name ?? current?.display_name ?? nodeIdOf(fields.node_id),
    node_type: fields.node_type ?? current?.node_type ?? 'infrastructure',
    endpoints: list.data,
    ...(region === undefined ? {} : { region }),
    tags: fields.tags ?? current?.tags ?? [],
  };
}

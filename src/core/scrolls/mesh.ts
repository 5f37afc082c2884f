import { anyBody, bodyWith, defineScroll, identifier } from './define.js';

const RESERVED = 'written by the Mesh engine: vm mesh node|route|capability|topology';

export const mesh = defineScroll({
  name: 'mesh',
  title: 'Mesh',
  engineId: 'engine:mesh',
  description: 'Federation topology: nodes, routes and capabilities.',
  file: 'receipts/mesh/mesh_events.jsonl',
  rootFile: 'ROOT.mesh.txt',
  types: [
    {
      type: 'mesh_node_join',
      description: 'A node joined the mesh.',
      body: bodyWith({ node_id: identifier }),
      reserved: RESERVED,
    },
    {
      type: 'mesh_node_leave',
      description: 'A node left the mesh.',
      body: bodyWith({ node_id: identifier }),
      reserved: RESERVED,
    },
    {
      type: 'mesh_route_change',
      description: 'A route between nodes changed.',
      body: anyBody,
      reserved: RESERVED,
    },
    {
      type: 'mesh_capability_grant',
      description: 'A capability was granted to a node.',
      body: anyBody,
      reserved: RESERVED,
    },
    {
      type: 'mesh_capability_revoke',
      description: 'A capability was revoked from a node.',
      body: anyBody,
      reserved: RESERVED,
    },
    {
      type: 'mesh_topology_snapshot',
      description: 'A snapshot of the derived topology.',
      body: anyBody,
      reserved: RESERVED,
    },
  ],
});

/**
 * The Mesh engine (seed 000 §9, seed 004 §4): nodes joining and leaving, routes between them and
 * capabilities granted to them, each a receipt in the Mesh scroll. The topology is never stored:
 * it is the fold of the scroll (src/core/mesh/), cached by the ledger.
 */
import { mesh } from '../../core/scrolls/mesh.js';
import { defineLedgerEngine } from '../framework/engine.js';
import { capabilityGrant, capabilityList, capabilityRevoke } from './capabilities.js';
import { nodeJoin, nodeLeave, nodeList, nodeShow } from './nodes.js';
import { routeAdd, routeList, routeRemove, routeUpdate } from './routes.js';
import { audit, topology, topologyShow, topologySnapshot } from './topology.js';

export const meshEngine = defineLedgerEngine(
  {
    id: 'mesh',
    title: 'Mesh',
    description: 'federation topology: nodes, routes and capabilities, derived from the Mesh scroll',
    scroll: mesh,
  },
  [
    nodeList,
    nodeShow,
    nodeJoin,
    nodeLeave,
    routeAdd,
    routeUpdate,
    routeRemove,
    routeList,
    capabilityGrant,
    capabilityRevoke,
    capabilityList,
    // `topology` first: its command is the parent of `topology show` and `topology snapshot`.
    topology,
    topologyShow,
    topologySnapshot,
    audit,
  ],
);

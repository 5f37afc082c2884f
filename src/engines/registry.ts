/**
 * Every engine the product has. `ENGINES` are the staged ones (plan, run, seal), which the design
 * gate drives; `ENGINE_SURFACES` adds the engines whose state is a fold of their scroll. The CLI,
 * the HTTP API and the MCP server are built from `ENGINE_SURFACES`.
 */
import { drillsEngine } from './drills/index.js';
import type { Engine, EngineSurface } from './framework/engine.js';
import { identityEngine } from './identity/index.js';
import { meshEngine } from './mesh/index.js';
import { remembrancerEngine } from './remembrancer/index.js';
import { treasuryEngine } from './treasury/index.js';
// vm engine new: engine imports

export const ENGINES: readonly Engine[] = [
  drillsEngine,
  remembrancerEngine,
  // vm engine new: engines
];

export const ENGINE_SURFACES: readonly EngineSurface[] = [
  ...ENGINES,
  // ledger engines
  identityEngine,
  meshEngine,
  treasuryEngine,
];

export function findEngine(id: string): Engine | undefined {
  return ENGINES.find((e) => e.id === id);
}

/** Every engine the product has. The CLI, the design gate (and later HTTP and MCP) are built from this list. */
import { drillsEngine } from './drills/index.js';
import type { Engine } from './framework/engine.js';
import { remembrancerEngine } from './remembrancer/index.js';
// vm engine new: engine imports

export const ENGINES: readonly Engine[] = [
  drillsEngine,
  remembrancerEngine,
  // vm engine new: engines
];

export function findEngine(id: string): Engine | undefined {
  return ENGINES.find((e) => e.id === id);
}

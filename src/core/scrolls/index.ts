/** The registry of every scroll and receipt type the product knows. */
import { VaultMeshError } from '../errors.js';
import { automation } from './automation.js';
import { compliance } from './compliance.js';
import { consoleScroll } from './console.js';
import type { ReceiptTypeDefinition, ScrollDefinition } from './define.js';
import { drills } from './drills.js';
import { federation } from './federation.js';
import { governance } from './governance.js';
import { guardian } from './guardian.js';
import { identity } from './identity.js';
import { mesh } from './mesh.js';
import { observability } from './observability.js';
import { offsec } from './offsec.js';
import { psi } from './psi.js';
import { remembrancer } from './remembrancer.js';
import { treasury } from './treasury.js';
// vm engine new: scroll imports

export type { ReceiptTypeDefinition, ScrollDefinition } from './define.js';

export const SCROLLS: readonly ScrollDefinition[] = [
  drills,
  compliance,
  guardian,
  treasury,
  mesh,
  offsec,
  identity,
  observability,
  automation,
  psi,
  consoleScroll,
  federation,
  governance,
  remembrancer,
  // vm engine new: scrolls
];

const byName = new Map<string, ScrollDefinition>();
for (const scroll of SCROLLS) {
  byName.set(scroll.name, scroll);
  byName.set(scroll.title.toLowerCase(), scroll);
}

/**
 * Looks a scroll up by its id (`psi`) or its seed title in any case (`PsiField`).
 * @throws VaultMeshError UNKNOWN_SCROLL listing the known scrolls.
 */
export function getScroll(name: string): ScrollDefinition {
  const scroll = byName.get(name.toLowerCase());
  if (scroll === undefined) {
    throw new VaultMeshError('UNKNOWN_SCROLL', `unknown scroll "${name}"`, {
      hint: `use one of: ${SCROLLS.map((s) => s.name).join(', ')}`,
    });
  }
  return scroll;
}

/** @throws VaultMeshError UNKNOWN_TYPE listing the scroll's types. */
export function getReceiptType(scroll: ScrollDefinition, type: string): ReceiptTypeDefinition {
  const definition = scroll.types.find((t) => t.type === type);
  if (definition === undefined) {
    throw new VaultMeshError('UNKNOWN_TYPE', `scroll ${scroll.name} has no receipt type "${type}"`, {
      hint: `use one of: ${scroll.types.map((t) => t.type).join(', ')}`,
    });
  }
  return definition;
}

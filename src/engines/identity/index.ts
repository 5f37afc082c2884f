/**
 * The Identity engine (seed 004 §3): DIDs with their documents, verifiable credentials and
 * capability tokens, every change a receipt in the Identity scroll and every view a fold of it.
 */
import { identity } from '../../core/scrolls/identity.js';
import { defineLedgerEngine } from '../framework/engine.js';
import { capabilityOperations } from './capabilities.js';
import { credentialOperations } from './credentials.js';
import { didOperations } from './dids.js';

export const identityEngine = defineLedgerEngine(
  {
    id: 'identity',
    title: 'Identity',
    description: 'DIDs, verifiable credentials and capability tokens (the Identity scroll)',
    scroll: identity,
  },
  [...didOperations, ...credentialOperations, ...capabilityOperations],
);

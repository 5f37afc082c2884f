/**
 * Every Identity write goes through here: decided under the scroll's lock on the state every
 * writer left, with the node's own DID recorded first if the scroll does not have it yet, then
 * published as a new signed checkpoint.
 */
import { canonicalJson } from '../../core/canonical.js';
import { blake3Tagged } from '../../core/hash.js';
import { didDocument, encodePublicKeyMultibase, keyId, parseDid } from '../../core/identity/did.js';
import type { IdentityState } from '../../core/identity/registry.js';
import type { Receipt, ReceiptDraft } from '../../core/receipt.js';
import type { Ledger } from '../../ledger/ledger.js';
import type { ScrollLog } from '../../ledger/scroll-log.js';
import { identityState } from './resolve.js';

export const IDENTITY = 'identity';

export function documentDraftFields(document: ReturnType<typeof didDocument>) {
  return { did_document: document, did_document_hash: blake3Tagged(canonicalJson(document)) };
}

/** The node's DID, whose one key is the key that signs its checkpoints. */
function nodeDidDraft(ledger: Ledger): ReceiptDraft {
  const did = ledger.identity.did;
  const kid = keyId(did, 1);
  const document = didDocument({
    did,
    keys: [{ id: kid, publicKeyMultibase: encodePublicKeyMultibase(ledger.identity.verifier.publicKey) }],
  });
  return {
    scroll: IDENTITY,
    type: 'identity_did_create',
    body: {
      did,
      did_type: parseDid(did).kind,
      created_by: did,
      initial_keys: [kid],
      key_custody: 'node',
      ...documentDraftFields(document),
    },
    tags: ['identity', 'did', 'create', 'node'],
  };
}

/**
 * Appends what `decide` returns for the Identity scroll as it is under the lock, and publishes.
 * @returns the receipts `decide` drafted (not the node's DID, when that was recorded first).
 */
export async function identityAppend(
  ledger: Ledger,
  decide: (state: IdentityState, log: ScrollLog) => ReceiptDraft[] | Promise<ReceiptDraft[]>,
): Promise<Receipt[]> {
  let prefix = 0;
  const appended = await ledger.emitChecked(IDENTITY, async (log) => {
    const state = identityState(ledger, log);
    const own = state.dids[ledger.identity.did] === undefined ? [nodeDidDraft(ledger)] : [];
    prefix = own.length;
    return [...own, ...(await decide(state, log))];
  });
  if (appended.length > 0) await ledger.publish(IDENTITY);
  return appended.slice(prefix).map((a) => a.receipt);
}

/** Records the node's DID if the scroll lacks it, so that the node can be resolved like any DID. */
export async function ensureNodeDid(ledger: Ledger): Promise<void> {
  if (identityState(ledger).dids[ledger.identity.did] === undefined) await identityAppend(ledger, () => []);
}

/** `vm identity did create|show|list|rotate-key|revoke`: DIDs and their documents, each change a receipt. */
import { z } from 'zod';
import { VaultMeshError } from '../../core/errors.js';
import {
  DID_KINDS,
  decodePublicKeyMultibase,
  didDocument,
  encodePublicKeyMultibase,
  formatDid,
  keyId,
  keyNumber,
  parseDid,
  type DocumentService,
} from '../../core/identity/did.js';
import { currentKeys, type DidRecord, type IdentityState } from '../../core/identity/registry.js';
import { table } from '../../core/table.js';
import { destroyDidKey, generateDidKey } from '../../ledger/keystore.js';
import type { Ledger } from '../../ledger/ledger.js';
import { defineOperation, type AnyOperation } from '../framework/engine.js';
import { documentDraftFields, identityAppend, IDENTITY } from './append.js';
import { didRecord, identityState } from './resolve.js';

const didText = z.string().min(1).max(200);

/** `--service name=url`: a DID document service entry. */
function parseServices(did: string, specs: readonly string[]): DocumentService[] {
  return specs.map((spec, i) => {
    const at = spec.indexOf('=');
    const name = spec.slice(0, at);
    const url = spec.slice(at + 1);
    if (at <= 0 || !/^[A-Za-z][A-Za-z0-9-]{0,63}$/.test(name) || !URL.canParse(url)) {
      throw new VaultMeshError('INVALID_ARGUMENT', `--service ${spec}: expected <name>=<url>`, {
        hint: 'e.g. --service api=https://vault-01.example:9110',
        evidence: { field: `service.${i}` },
      });
    }
    return { id: `${did}#${name}`, type: 'VaultMeshNode', serviceEndpoint: new URL(url).toString() };
  });
}

function activeRecord(state: IdentityState, did: string, field: string): DidRecord {
  const record = didRecord(state, did, field);
  if (record.status !== 'active') {
    throw new VaultMeshError('DID_REVOKED', `${field}: ${did} was revoked at ${record.revoked?.at}`, {
      hint: 'a revoked DID cannot act or change; create a new DID',
      evidence: { field, did },
    });
  }
  return record;
}

function refuseNodeDid(ledger: Ledger, did: string, what: string): void {
  if (did === ledger.identity.did) {
    throw new VaultMeshError('INVALID_ARGUMENT', `the node's own DID cannot be ${what} here`, {
      hint: "its key is the key of the node's checkpoints; a new node key means a new node origin",
      evidence: { field: 'did' },
    });
  }
}

export interface DidView {
  did: string;
  status: 'active' | 'revoked';
  key_custody: DidRecord['key_custody'];
  controller?: string;
  created_at: string;
  current_keys: string[];
  keys: DidRecord['keys'];
  revoked?: DidRecord['revoked'];
  document: DidRecord['document'];
  document_hash: string;
}

function view(record: DidRecord): DidView {
  return {
    did: record.did,
    status: record.status,
    key_custody: record.key_custody,
    ...(record.controller === undefined ? {} : { controller: record.controller }),
    created_at: record.created_at,
    current_keys: currentKeys(record).map((k) => k.id),
    keys: record.keys,
    ...(record.revoked === undefined ? {} : { revoked: record.revoked }),
    document: record.document,
    document_hash: record.document_hash,
  };
}

const humanDid = (d: DidView) =>
  [
    `${d.did}  ${d.status}${d.revoked === undefined ? '' : ` (${d.revoked.reason})`}`,
    `keys: ${d.current_keys.join(', ') || 'none current'} (${d.key_custody === 'holder' ? 'held by the holder' : 'kept by this node'})`,
    ...(d.controller === undefined ? [] : [`controller: ${d.controller}`]),
    `document: ${d.document_hash}`,
  ].join('\n');

const createOperation = defineOperation({
  name: 'did create',
  summary: 'create a DID with an Ed25519 key (kept by the node, or --public-key held by its holder)',
  access: 'write',
  capability: 'admin',
  input: z.object({
    type: z.enum(DID_KINDS),
    id: z.string().min(1).max(128),
    controller: didText.optional(),
    publicKey: z.string().min(1).max(64).optional(),
    service: z.array(z.string().min(1).max(2048)).max(16).default([]),
  }),
  cli: {
    options: [
      { field: 'type', flags: '--type <kind>', description: DID_KINDS.join(' | ') },
      { field: 'id', flags: '--id <id>', description: 'the DID id, e.g. alice -> did:vm:human:alice' },
      { field: 'controller', flags: '--controller <did>', description: 'a DID that controls this one' },
      {
        field: 'publicKey',
        flags: '--public-key <multibase>',
        description: 'the holder keeps the private key; give its public key (z6Mk...)',
      },
      {
        field: 'service',
        flags: '--service <name=url...>',
        description: 'service endpoints for the document',
      },
    ],
  },
  async run(context, input) {
    const did = formatDid(input.type, input.id);
    const external =
      input.publicKey === undefined ? undefined : decodePublicKeyMultibase(input.publicKey, '--public-key');
    const services = parseServices(did, input.service);
    const ledger = context.ledger;
    const [receipt] = await identityAppend(ledger, (state) => {
      if (state.dids[did] !== undefined || did === ledger.identity.did) {
        throw new VaultMeshError('DID_EXISTS', `${did} exists already`, {
          hint: `see it with: vm identity did show ${did}`,
          evidence: { field: 'id', did },
        });
      }
      if (input.controller !== undefined) activeRecord(state, input.controller, '--controller');
      const kid = keyId(did, 1);
      // Made under the scroll lock: a racing create of the same DID cannot replace this key.
      const publicKey = external ?? generateDidKey(ledger.dataDir, did, 1).publicKey;
      const document = didDocument({
        did,
        ...(input.controller === undefined ? {} : { controller: input.controller }),
        keys: [{ id: kid, publicKeyMultibase: encodePublicKeyMultibase(publicKey) }],
        services,
      });
      return [
        {
          scroll: IDENTITY,
          type: 'identity_did_create',
          body: {
            did,
            did_type: input.type,
            ...(input.controller === undefined ? {} : { controller: input.controller }),
            created_by: ledger.identity.did,
            initial_keys: [kid],
            key_custody: external === undefined ? 'node_keystore' : 'holder',
            ...documentDraftFields(document),
          },
          tags: ['identity', 'did', 'create', input.type],
        },
      ];
    });
    return { receipt_seq: receipt!.seq, ...view(identityState(ledger).dids[did]!) };
  },
  human: (r: DidView & { receipt_seq: number }) =>
    `created ${humanDid(r)}\nreceipt: identity seq ${r.receipt_seq}`,
});

const showOperation = defineOperation({
  name: 'did show',
  summary: 'resolve a DID: its DID document, keys (with their history) and status',
  access: 'read',
  input: z.object({ did: didText }),
  cli: { arguments: [{ field: 'did', name: 'did' }] },
  async run(context, input) {
    return view(didRecord(identityState(context.ledger), input.did, '<did>'));
  },
  human: (d: DidView) => `${humanDid(d)}\n${JSON.stringify(d.document, null, 2)}`,
});

const listOperation = defineOperation({
  name: 'did list',
  summary: 'the DIDs in the Identity scroll',
  access: 'read',
  input: z.object({ type: z.enum(DID_KINDS).optional(), status: z.enum(['active', 'revoked']).optional() }),
  cli: {
    options: [
      { field: 'type', flags: '--type <kind>', description: 'only DIDs of this kind' },
      { field: 'status', flags: '--status <status>', description: 'active or revoked' },
    ],
  },
  async run(context, input) {
    return Object.values(identityState(context.ledger).dids)
      .filter((d) => input.type === undefined || d.kind === input.type)
      .filter((d) => input.status === undefined || d.status === input.status)
      .map(view);
  },
  rows: (dids: DidView[]) => ({
    columns: ['did', 'status', 'keys', 'custody', 'created_at'],
    rows: dids.map((d) => [d.did, d.status, d.current_keys.join(' '), d.key_custody, d.created_at]),
  }),
  human: (dids: DidView[]) =>
    dids.length === 0
      ? 'no DIDs yet: vm identity did create --type human --id <name>'
      : table([
          ['DID', 'STATUS', 'KEYS', 'CUSTODY', 'CREATED'],
          ...dids.map((d) => [d.did, d.status, d.current_keys.join(' '), d.key_custody, d.created_at]),
        ]),
});

const rotateOperation = defineOperation({
  name: 'did rotate-key',
  summary: "replace a DID's key; the old key signs nothing valid from then on",
  access: 'write',
  capability: 'admin',
  input: z.object({ did: didText, publicKey: z.string().min(1).max(64).optional() }),
  cli: {
    arguments: [{ field: 'did', name: 'did' }],
    options: [
      {
        field: 'publicKey',
        flags: '--public-key <multibase>',
        description: 'the new key, for a DID whose holder keeps it',
      },
    ],
  },
  async run(context, input) {
    const ledger = context.ledger;
    parseDid(input.did, '<did>');
    refuseNodeDid(ledger, input.did, 'rotated');
    const external =
      input.publicKey === undefined ? undefined : decodePublicKeyMultibase(input.publicKey, '--public-key');
    let previous: string[] = [];
    const [receipt] = await identityAppend(ledger, (state) => {
      const record = activeRecord(state, input.did, '<did>');
      if (record.key_custody === 'holder' && external === undefined) {
        throw new VaultMeshError(
          'INVALID_ARGUMENT',
          `${input.did}'s key is held by its holder: --public-key is needed`,
          {
            hint: 'the holder makes the new key pair and gives its public key (z6Mk...)',
            evidence: { field: '--public-key' },
          },
        );
      }
      previous = currentKeys(record).map((k) => k.id);
      const n = Math.max(...record.keys.map((k) => keyNumber(k.id) ?? 0)) + 1;
      const kid = keyId(input.did, n);
      const publicKey = external ?? generateDidKey(ledger.dataDir, input.did, n).publicKey;
      const document = didDocument({
        did: input.did,
        ...(record.controller === undefined ? {} : { controller: record.controller }),
        keys: [{ id: kid, publicKeyMultibase: encodePublicKeyMultibase(publicKey) }],
        services: Array.isArray(record.document.service)
          ? (record.document.service as unknown as DocumentService[])
          : [],
      });
      return [
        {
          scroll: IDENTITY,
          type: 'identity_did_rotate',
          body: {
            did: input.did,
            previous_keys: previous,
            new_key: kid,
            rotated_by: ledger.identity.did,
            key_custody: external === undefined ? 'node_keystore' : 'holder',
            ...documentDraftFields(document),
          },
          tags: ['identity', 'did', 'rotate'],
        },
      ];
    });
    for (const kid of previous) destroyDidKey(ledger.dataDir, input.did, kid);
    return { receipt_seq: receipt!.seq, ...view(identityState(ledger).dids[input.did]!) };
  },
  human: (r: DidView & { receipt_seq: number }) =>
    `rotated ${humanDid(r)}\nreceipt: identity seq ${r.receipt_seq}`,
});

const revokeOperation = defineOperation({
  name: 'did revoke',
  summary: 'revoke a DID: its keys, credentials it issued and tokens it granted are no longer valid',
  access: 'write',
  capability: 'admin',
  input: z.object({ did: didText, reason: z.string().min(1).max(4096) }),
  cli: {
    arguments: [{ field: 'did', name: 'did' }],
    options: [{ field: 'reason', flags: '--reason <text>', description: 'why (goes into the receipt)' }],
  },
  async run(context, input) {
    const ledger = context.ledger;
    parseDid(input.did, '<did>');
    refuseNodeDid(ledger, input.did, 'revoked');
    const [receipt] = await identityAppend(ledger, (state) => {
      activeRecord(state, input.did, '<did>');
      return [
        {
          scroll: IDENTITY,
          type: 'identity_did_revoke',
          body: { did: input.did, revoked_by: ledger.identity.did, reason: input.reason },
          tags: ['identity', 'did', 'revoke'],
        },
      ];
    });
    return { receipt_seq: receipt!.seq, ...view(identityState(ledger).dids[input.did]!) };
  },
  human: (r: DidView & { receipt_seq: number }) =>
    `revoked ${humanDid(r)}\nreceipt: identity seq ${r.receipt_seq}`,
});

export { activeRecord };

export const didOperations: AnyOperation[] = [
  createOperation,
  showOperation,
  listOperation,
  rotateOperation,
  revokeOperation,
];

import { anyBody, bodyWith, defineScroll, did } from './define.js';

const RESERVED = 'written by the Identity engine and the node: vm identity, vm token';

export const identity = defineScroll({
  name: 'identity',
  title: 'Identity',
  engineId: 'engine:identity',
  description: 'DIDs, verifiable credentials, capabilities, authentication and authorization.',
  file: 'receipts/identity/identity_events.jsonl',
  rootFile: 'ROOT.identity.txt',
  types: [
    {
      type: 'identity_did_create',
      description: 'A DID was created.',
      body: bodyWith({ did }),
      reserved: RESERVED,
    },
    {
      type: 'identity_did_rotate',
      description: 'A DID rotated its key.',
      body: bodyWith({ did }),
      reserved: RESERVED,
    },
    {
      type: 'identity_did_revoke',
      description: 'A DID was revoked.',
      body: bodyWith({ did }),
      reserved: RESERVED,
    },
    {
      type: 'identity_credential_issue',
      description: 'A verifiable credential was issued.',
      body: anyBody,
      reserved: RESERVED,
    },
    {
      type: 'identity_credential_revoke',
      description: 'A verifiable credential was revoked.',
      body: anyBody,
      reserved: RESERVED,
    },
    {
      type: 'identity_capability_grant',
      description: 'A capability token was granted.',
      body: anyBody,
      reserved: RESERVED,
    },
    {
      type: 'identity_capability_revoke',
      description: 'A capability token was revoked.',
      body: anyBody,
      reserved: RESERVED,
    },
    {
      type: 'identity_auth_event',
      description: 'An authentication event.',
      body: anyBody,
      reserved: RESERVED,
    },
    {
      type: 'identity_authz_decision',
      description: 'An authorization decision.',
      body: anyBody,
      reserved: RESERVED,
    },
  ],
});

/**
 * The receipt envelope (one shape for every engine) and its single canonical line form.
 * A scroll line is the RFC 8785 serialization of the envelope; its UTF-8 bytes are the Merkle leaf.
 */
import { z } from 'zod';
import { assertJson, canonicalJson, type JsonObject } from './canonical.js';
import { utf8 } from './bytes.js';
import { VaultMeshError } from './errors.js';
import { blake3Tagged } from './hash.js';
import { getReceiptType, getScroll } from './scrolls/index.js';

export const RECEIPT_VERSION = 1;
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;
export const MAX_TAGS = 32;

export interface IssuerSignature {
  alg: 'ed25519';
  kid: string;
  sig: string;
}

export interface Receipt {
  body: JsonObject;
  issuer: string;
  issuer_sig?: IssuerSignature;
  root_hash: string;
  scroll: string;
  seq: number;
  session_id?: string;
  tags: string[];
  ts: string;
  type: string;
  v: number;
}

/** What a caller submits; the ledger assigns seq, ts and issuer. */
export interface ReceiptDraft {
  scroll: string;
  type: string;
  body: unknown;
  tags?: readonly string[];
  session_id?: string;
}

/** A draft that passed every check, with its body already in canonical form. */
export interface ValidatedDraft {
  scroll: string;
  type: string;
  body: JsonObject;
  bodyJson: string;
  rootHash: string;
  tags: string[];
  session_id?: string;
}

const TAG_RE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const SESSION_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const DID_RE = /^did:vm:(node|human|agent|service|mesh):[A-Za-z0-9._:-]{1,128}$/;

/**
 * Checks a draft against the registry and the body schema of its type.
 * @throws VaultMeshError UNKNOWN_SCROLL, UNKNOWN_TYPE, INVALID_BODY (naming the field), BODY_TOO_LARGE, INVALID_ARGUMENT (tags, session id).
 */
export function validateDraft(draft: ReceiptDraft, maxBodyBytes = DEFAULT_MAX_BODY_BYTES): ValidatedDraft {
  const scroll = getScroll(draft.scroll);
  const definition = getReceiptType(scroll, draft.type);
  const { body } = draft;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new VaultMeshError('INVALID_BODY', 'body must be a JSON object', {
      hint: 'pass an object such as {"key":"value"}',
    });
  }
  assertJson(body, 'body');
  const parsed = definition.body.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = ['body', ...issue.path.map(String)].join('.');
    throw new VaultMeshError('INVALID_BODY', `${path}: ${issue.message} (receipt type ${draft.type})`, {
      hint: `see the fields of ${draft.type} with: vm types ${scroll.name}`,
      evidence: { field: path, type: draft.type },
    });
  }
  const bodyJson = canonicalJson(body);
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so only long bodies need counting.
  const bodyBytes = bodyJson.length * 3 <= maxBodyBytes ? 0 : utf8(bodyJson).length;
  if (bodyBytes > maxBodyBytes) {
    throw new VaultMeshError('BODY_TOO_LARGE', `body is ${bodyBytes} bytes; the limit is ${maxBodyBytes}`, {
      hint: 'store large content as a file under cases/ and put its hash in the body',
    });
  }
  const validated: ValidatedDraft = {
    scroll: scroll.name,
    type: definition.type,
    body: body as JsonObject,
    bodyJson,
    rootHash: blake3Tagged(bodyJson),
    tags: validateTags(draft.tags ?? []),
  };
  if (draft.session_id !== undefined) {
    if (!SESSION_RE.test(draft.session_id)) {
      throw new VaultMeshError(
        'INVALID_ARGUMENT',
        `session_id "${draft.session_id}" is not a valid session id`,
        {
          hint: 'use letters, digits, and . _ : - (up to 128 characters)',
        },
      );
    }
    validated.session_id = draft.session_id;
  }
  return validated;
}

/**
 * For the generic append paths: refuses a type its engine alone may write.
 * @throws VaultMeshError RESERVED_TYPE naming who writes it.
 */
export function assertAppendable(draft: Pick<ReceiptDraft, 'scroll' | 'type'>): void {
  const scroll = getScroll(draft.scroll);
  const definition = getReceiptType(scroll, draft.type);
  if (definition.reserved !== undefined) {
    throw new VaultMeshError('RESERVED_TYPE', `${definition.type} receipts cannot be appended directly`, {
      hint: `they are ${definition.reserved}`,
      evidence: { field: 'type', type: definition.type },
    });
  }
}

function validateTags(tags: readonly string[]): string[] {
  if (tags.length > MAX_TAGS) {
    throw new VaultMeshError('INVALID_ARGUMENT', `at most ${MAX_TAGS} tags are allowed, got ${tags.length}`);
  }
  for (const tag of tags) {
    if (typeof tag !== 'string' || !TAG_RE.test(tag)) {
      throw new VaultMeshError('INVALID_ARGUMENT', `tag "${String(tag)}" is not valid`, {
        hint: 'a tag is 1-64 characters: letters, digits, and . _ : / - (not starting with punctuation)',
      });
    }
  }
  return [...new Set(tags)];
}

/** Builds the envelope of a validated draft at its assigned position. */
export function sealDraft(
  draft: ValidatedDraft,
  seq: number,
  ts: string,
  issuer: string,
): { receipt: Receipt; line: string } {
  const receipt: Receipt = {
    body: draft.body,
    issuer,
    root_hash: draft.rootHash,
    scroll: draft.scroll,
    seq,
    ...(draft.session_id === undefined ? {} : { session_id: draft.session_id }),
    tags: draft.tags,
    ts,
    type: draft.type,
    v: RECEIPT_VERSION,
  };
  return { receipt, line: composeLine(receipt, draft.bodyJson) };
}

/** The canonical line of a receipt: RFC 8785 of the whole envelope. */
export function receiptLine(receipt: Receipt): string {
  return composeLine(receipt, canonicalJson(receipt.body));
}

/**
 * Writes the JCS form key by key so the body, already canonical, is not serialized twice on the
 * append path. Keys appear in RFC 8785 order (UTF-16 code unit order); strings use JSON.stringify,
 * which is exactly RFC 8785's string serialization. A property test holds this equal to canonicalize().
 */
function composeLine(r: Receipt, bodyJson: string): string {
  let line = `{"body":${bodyJson},"issuer":${JSON.stringify(r.issuer)}`;
  if (r.issuer_sig !== undefined) line += `,"issuer_sig":${canonicalJson({ ...r.issuer_sig })}`;
  line += `,"root_hash":${JSON.stringify(r.root_hash)},"scroll":${JSON.stringify(r.scroll)},"seq":${r.seq}`;
  if (r.session_id !== undefined) line += `,"session_id":${JSON.stringify(r.session_id)}`;
  line += `,"tags":${JSON.stringify(r.tags)},"ts":${JSON.stringify(r.ts)},"type":${JSON.stringify(r.type)},"v":${r.v}}`;
  return line;
}

const envelopeSchema = z.strictObject({
  body: z.record(z.string(), z.unknown()),
  issuer: z.string().regex(DID_RE, 'expected did:vm:<kind>:<id>'),
  issuer_sig: z
    .strictObject({ alg: z.literal('ed25519'), kid: z.string().min(1), sig: z.string().min(1) })
    .optional(),
  root_hash: z.string().regex(/^blake3:[0-9a-f]{64}$/, 'expected blake3:<64 hex digits>'),
  scroll: z.string().min(1),
  seq: z.number().int().nonnegative(),
  session_id: z.string().regex(SESSION_RE).optional(),
  tags: z.array(z.string().regex(TAG_RE)).max(MAX_TAGS),
  ts: z.string().regex(TS_RE, 'expected an ISO 8601 UTC time with milliseconds'),
  type: z.string().min(1),
  v: z.literal(RECEIPT_VERSION),
});

export interface LinePosition {
  scroll: string;
  seq: number;
}

/**
 * Fully checks one scroll line: JSON, envelope shape, canonical form, position, registered type,
 * body schema and body hash. Used on import, on catch-up of foreign lines and by `vm verify --deep`.
 * @throws VaultMeshError LINE_CORRUPT / SEQ_MISMATCH with the reason in the message.
 */
export function parseReceiptLine(line: string, expected?: LinePosition): Receipt {
  const where = expected === undefined ? 'line' : `line ${expected.seq + 1} (seq ${expected.seq})`;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (cause) {
    throw new VaultMeshError('LINE_CORRUPT', `${where} is not valid JSON`, {
      cause,
      evidence: { ...expected },
    });
  }
  const parsed = envelopeSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new VaultMeshError(
      'LINE_CORRUPT',
      `${where}: envelope field ${issue.path.join('.') || '(root)'}: ${issue.message}`,
      {
        evidence: { ...expected },
      },
    );
  }
  const receipt = parsed.data as Receipt;
  assertJson(receipt.body, 'body');
  if (receiptLine(receipt) !== line) {
    throw new VaultMeshError('LINE_CORRUPT', `${where} is not in canonical (RFC 8785) form`, {
      evidence: { ...expected },
    });
  }
  if (expected !== undefined) {
    if (receipt.scroll !== expected.scroll) {
      throw new VaultMeshError(
        'LINE_CORRUPT',
        `${where} belongs to scroll "${receipt.scroll}", not "${expected.scroll}"`,
        {
          evidence: { ...expected, found: receipt.scroll },
        },
      );
    }
    if (receipt.seq !== expected.seq) {
      throw new VaultMeshError(
        'SEQ_MISMATCH',
        `${where} carries seq ${receipt.seq}: a line was removed, inserted or moved`,
        {
          evidence: { ...expected, found: receipt.seq },
        },
      );
    }
  }
  const bodyHash = blake3Tagged(canonicalJson(receipt.body));
  if (bodyHash !== receipt.root_hash) {
    throw new VaultMeshError(
      'LINE_CORRUPT',
      `${where}: root_hash does not match the body (the body was altered)`,
      {
        evidence: { ...expected, recorded: receipt.root_hash, computed: bodyHash },
      },
    );
  }
  const definition = getReceiptType(getScroll(receipt.scroll), receipt.type);
  const body = definition.body.safeParse(receipt.body);
  if (!body.success) {
    const issue = body.error.issues[0]!;
    throw new VaultMeshError('LINE_CORRUPT', `${where}: body.${issue.path.join('.')}: ${issue.message}`, {
      evidence: { ...expected },
    });
  }
  return receipt;
}

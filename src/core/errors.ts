/**
 * One error type for the whole product. Every failure a user can meet carries a stable code,
 * a message naming what was wrong, a hint saying how to fix it, and — for tamper findings —
 * the evidence (line number, both hashes, the proof that failed).
 */

/** What kind of failure a code is; the CLI maps each kind to one exit status. */
export type ErrorKind =
  'usage' | 'input' | 'not_found' | 'verification' | 'denied' | 'io' | 'busy' | 'internal';

const CODES = {
  // usage and input
  USAGE: 'usage',
  INVALID_ARGUMENT: 'input',
  INVALID_JSON: 'input',
  INVALID_BODY: 'input',
  BODY_TOO_LARGE: 'input',
  INVALID_ENVELOPE: 'input',
  INVALID_HASH: 'input',
  INVALID_ENCODING: 'input',
  INVALID_WHERE: 'input',
  INVALID_TIME: 'input',
  INVALID_CONFIG: 'input',
  INVALID_KEY: 'input',
  IMPORT_LINE: 'input',
  CHECKPOINT_PARSE: 'input',
  NOTE_PARSE: 'input',
  PROOF_PARSE: 'input',
  BUNDLE_PARSE: 'input',
  INVALID_ID: 'input',
  INVALID_CONTRACT: 'input',
  INVALID_STATE: 'input',
  INVALID_RUNBOOK: 'input',
  NO_ROUTE: 'input',
  ILLEGAL_TRANSITION: 'input',
  RUN_EXISTS: 'input',
  RUN_NOT_FINISHED: 'input',
  AMBIGUOUS_RUN: 'input',
  DEPLOYMENT_CONFLICT: 'input',
  ENGINE_EXISTS: 'input',
  INVALID_EVENT: 'input',
  ACTION_DECIDED: 'input',
  RESERVED_TYPE: 'input',
  // lookups
  UNKNOWN_SCROLL: 'not_found',
  UNKNOWN_TYPE: 'not_found',
  SEQ_OUT_OF_RANGE: 'not_found',
  DATA_DIR_MISSING: 'not_found',
  NOT_INITIALIZED: 'not_found',
  UNKNOWN_STAGE: 'not_found',
  UNKNOWN_RUN: 'not_found',
  NO_ACTIVE_RUN: 'not_found',
  FILE_MISSING: 'not_found',
  NOT_RECORDED: 'not_found',
  UNKNOWN_SESSION: 'not_found',
  UNKNOWN_ACTION: 'not_found',
  AGENT_NOT_FOUND: 'not_found',
  // verification: the evidence of tampering or a proof that does not hold
  INCLUSION_MISMATCH: 'verification',
  CONSISTENCY_MISMATCH: 'verification',
  SIGNATURE_INVALID: 'verification',
  UNKNOWN_SIGNER: 'verification',
  ROOT_MISMATCH: 'verification',
  LINE_CORRUPT: 'verification',
  SEQ_MISMATCH: 'verification',
  SIDECAR_MISMATCH: 'verification',
  BUNDLE_INVALID: 'verification',
  ARTIFACT_MISMATCH: 'verification',
  RECEIPT_MISSING: 'verification',
  GATE_FAILED: 'verification',
  // authentication and authorization
  UNAUTHENTICATED: 'denied',
  TOKEN_INVALID: 'denied',
  TOKEN_EXPIRED: 'denied',
  TOKEN_REVOKED: 'denied',
  FORBIDDEN: 'denied',
  // environment
  RATE_LIMITED: 'busy',
  DATA_DIR_UNREADABLE: 'io',
  DATA_DIR_EXISTS: 'io',
  IO_ERROR: 'io',
  LOCK_TIMEOUT: 'busy',
  INTERNAL: 'internal',
  // identity
  INVALID_DID: 'input',
  DID_EXISTS: 'input',
  DID_REVOKED: 'input',
  UNKNOWN_DID: 'not_found',
  KEY_NOT_HELD: 'not_found',
  UNKNOWN_CREDENTIAL: 'not_found',
  CREDENTIAL_INVALID: 'verification',
  // Mesh engine
  NODE_EXISTS: 'input',
  NODE_NOT_MEMBER: 'input',
  ROUTE_EXISTS: 'input',
  GRANT_EXISTS: 'input',
  GRANT_NOT_ACTIVE: 'input',
  INVALID_NODE_CONFIG: 'input',
  UNKNOWN_NODE: 'not_found',
  UNKNOWN_ROUTE: 'not_found',
  UNKNOWN_GRANT: 'not_found',
  TOPOLOGY_MISMATCH: 'verification',
  // Treasury engine
  ACCOUNT_EXISTS: 'input',
  CURRENCY_MISMATCH: 'input',
  INSUFFICIENT_FUNDS: 'input',
  ENTRY_CONFLICT: 'input',
  UNBALANCED_SETTLEMENT: 'input',
  SETTLEMENT_EXISTS: 'input',
  SETTLEMENT_NOT_READY: 'input',
  SETTLEMENT_CLOSED: 'input',
  SETTLEMENT_EXPIRED: 'input',
  DUPLICATE_SIGNATURE: 'input',
  UNAUTHORIZED_SIGNER: 'denied',
  UNKNOWN_ACCOUNT: 'not_found',
  UNKNOWN_SETTLEMENT: 'not_found',
  BALANCE_MISMATCH: 'verification',
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof CODES;

export interface ErrorDetails {
  /** How to fix it, in one sentence addressed to the user. */
  hint?: string;
  /** The underlying error, when there is one. */
  cause?: unknown;
  /** Machine-readable facts: line numbers, expected and actual hashes, sizes. */
  evidence?: Record<string, unknown>;
}

export class VaultMeshError extends Error {
  override readonly name = 'VaultMeshError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly evidence: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.hint = details.hint;
    this.evidence = details.evidence;
  }

  get kind(): ErrorKind {
    return CODES[this.code];
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.evidence === undefined ? {} : { evidence: this.evidence }),
    };
  }
}

export function isVaultMeshError(e: unknown, code?: ErrorCode): e is VaultMeshError {
  return e instanceof VaultMeshError && (code === undefined || e.code === code);
}

/** The HTTP status of each error kind, and the JSON body every error response has. */
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { VaultMeshError } from '../../core/errors.js';

export function httpStatus(error: VaultMeshError): ContentfulStatusCode {
  switch (error.code) {
    case 'BODY_TOO_LARGE':
      return 413;
    case 'FORBIDDEN':
      return 403;
    case 'RATE_LIMITED':
      return 429;
    default:
  }
  switch (error.kind) {
    case 'usage':
    case 'input':
      return 400;
    case 'not_found':
      return 404;
    case 'verification':
      return 422;
    case 'denied':
      return 401;
    case 'busy':
      return 503;
    case 'io':
    case 'internal':
      return 500;
  }
}

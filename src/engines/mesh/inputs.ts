/** Input values the Mesh operations share, each refused with what to type instead. */
import { z } from 'zod';
import { ENDPOINT_NAME_RE, NODE_ID_HINT, nodeDidOf, normalizeEndpointUrl } from '../../core/mesh/fields.js';
import type { EngineContext } from '../framework/engine.js';

/** `vault-02` or `did:vm:node:vault-02`, as the node's DID. */
export const nodeRef = z.string().transform((ref, ctx) => {
  const did = nodeDidOf(ref);
  if (did === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${ref}" is not ${NODE_ID_HINT}` });
    return z.NEVER;
  }
  return did;
});

/** An endpoint URL as typed, in its normal form. */
export const endpointUrlInput = z.string().transform((url, ctx) => {
  const normal = normalizeEndpointUrl(url);
  if ('problem' in normal) {
    ctx.addIssue({ code: 'custom', message: `${url}: ${normal.problem}` });
    return z.NEVER;
  }
  return normal.url;
});

export const endpointNameInput = z
  .string()
  .regex(ENDPOINT_NAME_RE, 'an endpoint name is a-z, 0-9 and - (starting with a letter), e.g. api');

/** `--endpoint api=https://vault-02.example:9110`. */
export const endpointFlag = z.string().transform((text, ctx) => {
  const eq = text.indexOf('=');
  if (eq < 0) {
    ctx.addIssue({
      code: 'custom',
      message: `"${text}" is not name=url, e.g. api=https://vault-02.example:9110`,
    });
    return z.NEVER;
  }
  const name = endpointNameInput.safeParse(text.slice(0, eq));
  const url = endpointUrlInput.safeParse(text.slice(eq + 1));
  if (!name.success || !url.success) {
    ctx.addIssue({ code: 'custom', message: (name.error ?? url.error)!.issues[0]!.message });
    return z.NEVER;
  }
  return { name: name.data, url: url.data };
});

/** A count typed on the command line or in a query string. */
export const integerInput = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const now = (context: EngineContext) => context.clock().toISOString();

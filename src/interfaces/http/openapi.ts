/** The OpenAPI 3.1 document of the routes, built as they are registered so it cannot drift from them. */
import { z } from 'zod';

interface RouteDoc {
  summary: string;
  tag: string;
  body?: z.ZodType;
}

const ERROR = {
  description: 'error',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: { type: 'string' },
              message: { type: 'string' },
              hint: { type: 'string' },
              evidence: { type: 'object' },
            },
          },
        },
      },
    },
  },
};

export class OpenApi {
  private readonly paths: Record<string, Record<string, unknown>> = {};

  constructor(private readonly version: string) {}

  add(method: 'get' | 'post', path: string, doc: RouteDoc): void {
    const openApiPath = path.replace(/:([a-z]+)/g, '{$1}').replace(/\/\*$/, '/{tile}');
    const parameters = [...openApiPath.matchAll(/\{([a-z]+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    (this.paths[openApiPath] ??= {})[method] = {
      summary: doc.summary,
      tags: [doc.tag],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(doc.body === undefined
        ? {}
        : {
            requestBody: {
              required: true,
              content: {
                'application/json': {
                  schema: z.toJSONSchema(doc.body, { io: 'input', unrepresentable: 'any' }),
                },
              },
            },
          }),
      security: [{ bearer: [] }, {}],
      responses: { '200': { description: 'ok' }, '4XX': ERROR, '5XX': ERROR },
    };
  }

  document(): object {
    return {
      openapi: '3.1.0',
      info: {
        title: 'VaultMesh node API',
        version: this.version,
        description: 'Receipts, scrolls, proofs, tlog-tiles and engine operations of one VaultMesh node.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'vmt1' } } },
      paths: this.paths,
    };
  }
}

import { credhubSchemas } from './schemas.js';

const ref = (name: keyof typeof credhubSchemas) => ({ $ref: `#/components/schemas/${name}` });
const body = (name: keyof typeof credhubSchemas) => ({
  required: true,
  content: { 'application/json': { schema: ref(name) } },
});
const query = (name: string, schema: object, required = false) => ({ name, in: 'query', required, schema });
const path = (name: string) => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string', minLength: 1, maxLength: 1024 },
});
const ok = (description: string) => ({
  200: { description },
  400: { description: 'invalid input (the field is named)' },
  401: { description: 'no valid token' },
  403: { description: 'not allowed' },
  404: { description: 'not found' },
});
const tag = ['CredHub'];

/**
 * The CredHub API's routes in OpenAPI form, from the same schemas its routes validate with
 * (see schemas.ts); the control plane merges them into /openapi.json.
 */
export function credhubOpenApi(): { paths: Record<string, unknown>; schemas: Record<string, unknown> } {
  const info = {
    get: { tags: tag, summary: 'CredHub server info', security: [], responses: { 200: { description: 'info' } } },
  };
  const paths = {
    '/api/v1/info': info,
    '/api/v1/health': {
      get: { tags: tag, summary: 'CredHub health', security: [], responses: { 200: { description: 'UP' } } },
    },
    '/api/v1/version': {
      get: { tags: tag, summary: 'CredHub version', security: [], responses: { 200: { description: 'version' } } },
    },
    '/api/v1/data': {
      get: {
        tags: tag,
        summary: 'Get a credential by name (all, current or N versions), or find by path or name-like',
        parameters: [
          query('name', { type: 'string' }),
          query('current', { enum: ['true', 'false'] }),
          query('versions', { type: 'integer', minimum: 1 }),
          query('path', { type: 'string' }),
          query('name-like', { type: 'string' }),
          query('expires-within-days', { type: 'integer', minimum: 0 }),
        ],
        responses: ok('credentials'),
      },
      put: {
        tags: tag,
        summary: 'Set a credential value (a new version)',
        requestBody: body('CredhubSetRequest'),
        responses: ok('the version written'),
      },
      post: {
        tags: tag,
        summary: 'Generate a credential, or regenerate it with regenerate: true',
        requestBody: body('CredhubGenerateRequest'),
        responses: ok('the version'),
      },
      delete: {
        tags: tag,
        summary: 'Delete a credential with every version',
        parameters: [query('name', { type: 'string' }, true)],
        responses: { ...ok('deleted'), 204: { description: 'deleted' } },
      },
    },
    '/api/v1/data/{id}': {
      parameters: [path('id')],
      get: { tags: tag, summary: 'A credential version by its id', responses: ok('the version') },
      delete: {
        tags: tag,
        summary: 'Delete one version by its id',
        responses: { ...ok('deleted'), 204: { description: 'deleted' } },
      },
    },
    '/api/v1/regenerate': {
      post: {
        tags: tag,
        summary: 'Regenerate from the stored parameters',
        requestBody: body('CredhubRegenerateRequest'),
        responses: ok('the new version'),
      },
    },
    '/api/v1/bulk-regenerate': {
      post: {
        tags: tag,
        summary: 'Regenerate every certificate a CA signed',
        requestBody: body('CredhubBulkRegenerateRequest'),
        responses: ok('names regenerated'),
      },
    },
    '/api/v1/certificates': {
      get: {
        tags: tag,
        summary: 'Certificates you may read, with signer and versions',
        parameters: [query('name', { type: 'string' })],
        responses: ok('certificates'),
      },
    },
    '/api/v1/certificates/{id}/regenerate': {
      parameters: [path('id')],
      post: {
        tags: tag,
        summary: 'Regenerate a certificate by its id (optionally as transitional)',
        requestBody: { ...body('CredhubCertificateRegenerateRequest'), required: false },
        responses: ok('the new version'),
      },
    },
    '/api/v1/certificates/{id}/update_transitional_version': {
      parameters: [path('id')],
      put: {
        tags: tag,
        summary: 'Choose the transitional version of a CA (or none)',
        requestBody: body('CredhubTransitionalRequest'),
        responses: ok('current versions'),
      },
    },
    '/api/v1/certificates/{id}/versions': {
      parameters: [path('id')],
      get: {
        tags: tag,
        summary: 'Versions of a certificate',
        parameters: [query('current', { enum: ['true', 'false'] })],
        responses: ok('versions'),
      },
    },
    '/api/v1/certificates/{id}/versions/{versionId}': {
      parameters: [path('id'), path('versionId')],
      delete: { tags: tag, summary: 'Delete a version of a certificate', responses: ok('the deleted version') },
    },
    '/api/v1/interpolate': {
      post: {
        tags: tag,
        summary: 'Replace credhub-ref entries of VCAP_SERVICES',
        requestBody: body('CredhubInterpolateRequest'),
        responses: ok('interpolated'),
      },
    },
    '/api/v1/key-usage': { get: { tags: tag, summary: 'Versions per encryption key (admin)', responses: ok('usage') } },
    '/api/v1/key-usage/rotate': {
      post: { tags: tag, summary: 'Re-encrypt every value under the active key (admin)', responses: ok('progress') },
    },
    '/api/v1/audit': {
      get: {
        tags: tag,
        summary: "Audit events, newest first (yours; everyone's for an admin)",
        parameters: ['actor', 'name', 'path', 'operation', 'result', 'since', 'until']
          .map((n) => query(n, { type: 'string' }))
          .concat([query('limit', { type: 'integer', minimum: 1 }), query('before', { type: 'integer', minimum: 1 })]),
        responses: ok('events'),
      },
    },
    '/api/v2/permissions': {
      get: {
        tags: tag,
        summary: 'The permission of an actor on a path',
        parameters: [query('actor', { type: 'string' }, true), query('path', { type: 'string' }, true)],
        responses: ok('permission'),
      },
      post: {
        tags: tag,
        summary: 'Add a permission entry',
        requestBody: body('CredhubPermissionRequest'),
        responses: { ...ok('created'), 201: { description: 'created' } },
      },
    },
    '/api/v2/permissions/{uuid}': {
      parameters: [path('uuid')],
      get: { tags: tag, summary: 'A permission entry', responses: ok('permission') },
      put: {
        tags: tag,
        summary: 'Replace a permission entry',
        requestBody: body('CredhubPermissionRequest'),
        responses: ok('permission'),
      },
      patch: {
        tags: tag,
        summary: 'Change the operations of an entry',
        requestBody: body('CredhubPermissionPatch'),
        responses: ok('permission'),
      },
      delete: { tags: tag, summary: 'Delete a permission entry', responses: ok('the deleted entry') },
    },
  };
  return { paths, schemas: { ...credhubSchemas } };
}

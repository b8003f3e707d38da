import { schemas } from './schemas.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ref('Problem') } } });
const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'integer' } };
const errors = { 400: problem('invalid input (the field is named)'), 401: problem('not logged in'), 403: problem('not allowed'), 404: problem('not found'), 409: problem('busy or exists') };

/** The OpenAPI 3.1 document, built from the same schemas the API validates with. */
export function openApiDocument(version: string) {
  return {
    openapi: '3.1.0',
    info: { title: 'Slipway API', version, description: 'Kubernetes clusters on demand; shaped like the PKS v1 API.' },
    servers: [{ url: '/' }],
    components: {
      schemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
    security: [{ bearer: [] }],
    paths: {
      '/oauth/token': { post: { summary: 'Password grant', security: [], requestBody: { content: { 'application/x-www-form-urlencoded': { schema: ref('TokenRequest') }, 'application/json': { schema: ref('TokenRequest') } } }, responses: { 200: { description: 'token' }, 401: problem('bad credentials') } } },
      '/v1/plans': { get: { summary: 'List plans', responses: { 200: { description: 'plans', ...json({ type: 'array', items: ref('Plan') }) }, ...errors } } },
      '/v1/clusters': {
        get: { summary: 'List clusters you may see', responses: { 200: { description: 'clusters', ...json({ type: 'array', items: ref('Cluster') }) }, ...errors } },
        post: { summary: 'Create a cluster (async)', requestBody: json(ref('ClusterRequest')), responses: { 202: { description: 'accepted', ...json(ref('Cluster')) }, ...errors } },
      },
      '/v1/clusters/{name}': {
        parameters: [nameParam],
        get: { summary: 'Show a cluster', responses: { 200: { description: 'cluster', ...json(ref('Cluster')) }, ...errors } },
        patch: { summary: 'Resize a cluster (async)', requestBody: json(ref('UpdateClusterParameters')), responses: { 202: { description: 'accepted', ...json(ref('Cluster')) }, ...errors } },
        delete: { summary: 'Delete a cluster (async)', responses: { 202: { description: 'accepted', ...json(ref('Cluster')) }, ...errors } },
      },
      '/v1/clusters/{name}/binds': { parameters: [nameParam], post: { summary: 'Kubeconfig for the caller', responses: { 201: { description: 'kubeconfig', ...json(ref('Kubeconfig')) }, ...errors } } },
      '/v1/clusters/{name}/instances': { parameters: [nameParam], get: { summary: "The cluster's VMs, their processes and heartbeats", responses: { 200: { description: 'instances' }, ...errors } } },
      '/v1/clusters/{name}/events': { parameters: [nameParam], get: { summary: 'Recent events of the cluster', responses: { 200: { description: 'events' }, ...errors } } },
      '/v1/tasks': { get: { summary: 'List tasks, newest first', parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer' } }, { name: 'cluster', in: 'query', schema: { type: 'string' } }], responses: { 200: { description: 'tasks', ...json({ type: 'array', items: ref('Task') }) }, ...errors } } },
      '/v1/tasks/{id}': { parameters: [idParam], get: { summary: 'Show a task with its steps and log', responses: { 200: { description: 'task', ...json(ref('Task')) }, ...errors } } },
      '/v1/tasks/{id}/cancel': { parameters: [idParam], post: { summary: 'Cancel a running task', responses: { 202: { description: 'cancelling', ...json(ref('Task')) }, ...errors } } },
      '/v1/users': {
        get: { summary: 'List users (admin)', responses: { 200: { description: 'users' }, ...errors } },
        post: { summary: 'Create a user (admin)', requestBody: json(ref('UserRequest')), responses: { 201: { description: 'created' }, ...errors } },
      },
      '/v1/users/{name}': { parameters: [nameParam], delete: { summary: 'Delete a user (admin)', responses: { 204: { description: 'deleted' }, ...errors } } },
      '/v1/iaas': { get: { summary: 'The IaaS targets: plugin, version, capabilities, whether they offer failure rehearsal', responses: { 200: { description: 'targets' }, ...errors } } },
      '/v1/sandbox/{iaas}/inventory': { get: { summary: 'What a simulated cloud holds (admin)', responses: { 200: { description: 'inventory' }, ...errors } } },
      '/v1/sandbox/{iaas}/vms/{cid}/kill': { post: { summary: 'Rehearse a VM death (admin)', responses: { 204: { description: 'killed' }, ...errors } } },
      '/v1/sandbox/{iaas}/vms/{cid}/hang': { post: { summary: 'Rehearse an unresponsive agent (admin)', responses: { 204: { description: 'hung' }, ...errors } } },
      '/v1/sandbox/{iaas}/disks/{cid}/detach': { post: { summary: 'Rehearse a disk detaching (admin)', responses: { 204: { description: 'detached' }, ...errors } } },
      '/agent/v1/sync': { post: { summary: 'Agent channel: heartbeat and desired state (mTLS)', security: [], responses: { 200: { description: 'desired state' } } } },
    },
  };
}

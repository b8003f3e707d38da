export { createCredhubApi } from './app.js';
export { isCredhubProvider } from './guard.js';
export type { CredhubApiOptions, CredhubPrincipal, CredhubEnv } from './context.js';
export { credentialView } from './views.js';
export { credhubOpenApi } from './openapi.js';
export { credhubSchemas } from './schemas.js';

export { startControlPlane, type ControlPlaneOptions, type RunningControlPlane } from './control-plane.js';
export { createApp } from './app.js';
export { openApiDocument } from './openapi.js';
export { schemas } from './schemas.js';
export type { ApiDeps, AppEnv } from './context.js';

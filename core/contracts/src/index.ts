export * from './errors.js';
export * from './plugin.js';
export * from './agent.js';
export * from './iaas.js';
export * from './network.js';
export * from './registry.js';
export * from './credentials.js';
export * from './health.js';

export { NetworkProfileService, type NetworkProfileView } from './network-profile-service.js';
export { NETWORK_PROFILE_SCHEMA, validateNetworkProfile, checkProfileUpdate } from './profile-schema.js';
export { findNetworkProfile, requireNetworkProfile } from './profile-store.js';

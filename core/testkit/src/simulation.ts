/**
 * @slipway/testkit/simulation — kept for one version so older imports still resolve: the simulated cloud
 * machinery moved to @slipway/simulation (a package with no test runner); import it from there. The
 * test-only helpers below (a test host, a driver started against its fake, placeholder inputs) stay here.
 */
export * from '@slipway/simulation';
export { createTestHost, type TestHost } from './test-host.js';
export { startDriverUnderTest, type DriverUnderTest } from './driver-under-test.js';
export { failure, placeholderSettings, placeholderVmInput } from './driver-test-inputs.js';
export { MemoryCredentialProvider } from './memory-credentials.js';

/** The API endpoint port of every cluster (PKS: kubernetes_master_port 8443). A leaf module, so agents' job
 * properties and the lifecycle can both use it without importing each other. */
export const KUBERNETES_API_PORT = 8443;

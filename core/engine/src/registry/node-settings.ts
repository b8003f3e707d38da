import type { CredentialProvider, RegistrySettings, UserValue } from '@slipway/contracts';
import { ENGINE_ACTOR } from '../agents/agent-identity.js';
import type { ClusterRegistryRow } from '../store/index.js';
import { robotCredentialNames } from './naming.js';

/** What a node's containerd needs to trust and pull from the cluster's registry project. */
export async function registrySettings(
  credentials: CredentialProvider,
  row: ClusterRegistryRow,
): Promise<RegistrySettings> {
  const login = (await credentials.get(robotCredentialNames(row.cluster_uuid).pull, ENGINE_ACTOR)).value as UserValue;
  return {
    host: row.endpoint,
    ...(row.ca_pem ? { caPem: row.ca_pem } : {}),
    username: login.username,
    password: login.password,
  };
}

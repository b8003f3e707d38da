/** The bodies of Harbor's v2.0 API this driver reads and writes (swagger names). */

/** Project metadata keys and their string values, as Harbor keeps them. */
export type HarborMetadata = Partial<
  Record<'public' | 'prevent_vul' | 'severity' | 'auto_scan' | 'enable_content_trust_cosign', string>
>;

export interface HarborProject {
  project_id: number;
  name: string;
  metadata?: HarborMetadata;
  repo_count?: number;
}

export interface HarborProjectSummary {
  repo_count?: number;
  quota?: { hard?: { storage?: number }; used?: { storage?: number } };
}

export interface HarborQuota {
  id: number;
  hard: { storage?: number };
}

export interface HarborRobotAccess {
  resource: string;
  action: string;
  effect?: string;
}

export interface HarborRobot {
  id: number;
  name: string;
  level: 'system' | 'project';
  disable?: boolean;
  duration?: number;
  description?: string;
  expires_at?: number;
  permissions?: Array<{ kind: string; namespace: string; access: HarborRobotAccess[] }>;
}

export interface HarborRobotCreated {
  id: number;
  name: string;
  secret: string;
  expires_at?: number;
}

export interface HarborMember {
  id: number;
  entity_name: string;
  entity_type: 'u' | 'g';
  role_id: number;
}

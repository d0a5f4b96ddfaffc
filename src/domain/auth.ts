/** Roles, weakest first: each role may do everything the ones before it may. */
export enum Role {
  VIEWER = 'VIEWER',
  OPERATOR = 'OPERATOR',
  ADMIN = 'ADMIN',
}

const RANK: Record<Role, number> = { VIEWER: 0, OPERATOR: 1, ADMIN: 2 };

export function roleAllows(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

/** Who is calling: resolved from an API key on every request and WebSocket connection. */
export interface Principal {
  keyId: string;
  keyName: string;
  tenantId: string;
  role: Role;
}

export interface Tenant {
  id: string;
  name: string;
  createdAt: string;
}

export interface ApiKey {
  id: string;
  tenantId: string;
  name: string;
  role: Role;
  /** The first characters of the key, to tell keys apart; never enough to use one. */
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export enum AuditOutcome {
  SUCCESS = 'SUCCESS',
  FAILURE = 'FAILURE',
  FORBIDDEN = 'FORBIDDEN',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
}

export interface AuditEvent {
  id: string;
  tenantId: string;
  operation: string;
  actor: string | null;
  actorKeyId: string | null;
  targetIds: string[];
  outcome: AuditOutcome;
  /** The error code of a refused or failed attempt. */
  code: string | null;
  /** Attempts this event stands for: refused authentications are counted per address and minute. */
  count: number;
  /** The client's address, for refused authentications. */
  address: string | null;
  createdAt: string;
}

/** Tenant of audit events that belong to no tenant (a key nobody issued). */
export const SYSTEM_TENANT = '_system';

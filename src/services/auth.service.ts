import type { Tx } from '../../graph/cypher.js';
import { randomUUID } from 'node:crypto';
import * as audit from '../../graph/audit.repository.js';
import * as repo from '../../graph/auth.repository.js';
import { TOPICS } from '../../subscriptions/topics.js';
import { bearerKey, generateApiKey, hashApiKey, keyPrefix } from '../auth/keys.js';
import {
  AuditOutcome,
  Role,
  SYSTEM_TENANT,
  type ApiKey,
  type Principal,
  type Tenant,
} from '../domain/auth.js';
import { ConflictError, NotFoundError, UnauthenticatedError } from '../domain/errors.js';
import { pageRequest, type PageInput, type Page } from '../domain/page.js';
import { LIMITS, requiredName } from '../domain/validate.js';
import type { UnitOfWork } from './unit-of-work.js';

/**
 * How long a verified key is trusted without a new lookup (revocation in this process is
 * immediate). This and the other periods here are kept on the monotonic clock: on the wall
 * clock, one stepped back an hour trusted a key revoked elsewhere for that hour.
 */
const CACHE_MS = 5_000;
/** lastUsedAt is written at most this often per key. */
const TOUCH_MS = 60_000;
/** How long a key that authenticated stays exempt from its address's bad-key limit. */
const KNOWN_MS = 10 * 60_000;
/** Most key hashes remembered as recently valid (least recently used go first). */
const KNOWN_MAX = 10_000;

export interface CreatedKey {
  apiKey: ApiKey;
  /** The key itself: shown once, stored nowhere. */
  secret: string;
}

/** API keys, tenants and authentication. */
export class AuthService {
  private readonly cache = new Map<string, { key: ApiKey; at: number }>();
  /** Lookups under way, by hash: requests that miss the cache together share one. */
  private readonly lookups = new Map<string, Promise<ApiKey | null>>();
  /** Moves on each forgetKey: a lookup that began before it does not cache what it read. */
  private forgotten = 0;
  private readonly touched = new Map<string, number>();
  /** Credentials that authenticated lately (by hash): when, and which key. */
  private readonly known = new Map<string, { at: number; id: string }>();

  constructor(private readonly uow: UnitOfWork) {}

  /**
   * The principal for an `Authorization` header value (or bare key). Throws
   * UNAUTHENTICATED for an unknown or revoked key, and audits the refusal, counted per
   * `address` (the client's) and minute.
   */
  async authenticate(
    header: unknown,
    operation = 'authenticate',
    address: string | null = null,
  ): Promise<Principal> {
    const secret = bearerKey(header);
    if (!secret)
      throw new UnauthenticatedError('Send an API key as "Authorization: Bearer <key>"', false);
    const hash = hashApiKey(secret);
    const cached = this.cache.get(hash);
    let key = cached && performance.now() - cached.at < CACHE_MS ? cached.key : null;
    key ??= await this.lookUp(hash);
    if (!key || key.revokedAt) {
      const reason = key ? 'API key revoked' : 'unknown API key';
      await this.uow.write((tx) =>
        audit.countRefusal(tx, {
          tenantId: key?.tenantId ?? SYSTEM_TENANT,
          operation,
          actor: key?.name ?? null,
          actorKeyId: key?.id ?? null,
          targetIds: [],
          outcome: AuditOutcome.UNAUTHENTICATED,
          code: `UNAUTHENTICATED: ${reason}`,
          address,
        }),
      );
      throw new UnauthenticatedError(
        key ? 'This API key has been revoked' : 'This API key is not valid',
      );
    }
    this.known.delete(hash);
    this.known.set(hash, { at: performance.now(), id: key.id });
    if (this.known.size > KNOWN_MAX) this.known.delete(this.known.keys().next().value!);
    await this.touch(key.id);
    return repo.principalOf(key);
  }

  /**
   * Whether this credential authenticated in the last minutes: such a key is still looked up
   * (revocation holds) but is not refused for its address's bad keys, so clients behind one
   * NAT or proxy are not locked out by another client's failures.
   */
  recentlyValid(header: unknown): boolean {
    const secret = bearerKey(header);
    const at = secret ? this.known.get(hashApiKey(secret))?.at : undefined;
    return at !== undefined && performance.now() - at < KNOWN_MS;
  }

  /** Creates a key of the caller's tenant; the secret is returned once. */
  createKey(tenantId: string, name: string, role: Role): Promise<CreatedKey> {
    const keyName = requiredName('name', name, LIMITS.name);
    return this.uow.run((tx) => writeKey(tx, tenantId, keyName, role));
  }

  /**
   * Revokes a key of the tenant. Its open subscriptions are ended (API_KEY_REVOKED). The
   * tenant's last active ADMIN key is refused (CONFLICT): nothing could make another.
   */
  async revokeKey(tenantId: string, id: string): Promise<ApiKey> {
    const key = await this.uow.run(async (tx, emit) => {
      const revoked = await repo.revokeApiKey(tx, tenantId, id);
      if (!revoked) throw new NotFoundError('ApiKey', id);
      if (revoked.lastAdmin) {
        throw new ConflictError(
          `ApiKey "${id}" is the tenant's last active ADMIN key: create another with ` +
            'createApiKey(role: ADMIN) first, then revoke this one',
          { id },
        );
      }
      emit({ topic: TOPICS.apiKeyRevoked, payload: { tenantId, keyId: id } });
      return revoked.key;
    });
    this.forgetKey(id);
    return key;
  }

  /**
   * Drops a key from the lookup cache (its next use reads the graph and finds it revoked) and
   * from the recently valid ones (its address's bad keys count against it again).
   */
  forgetKey(id: string): void {
    this.forgotten++;
    this.lookups.clear();
    for (const [hash, entry] of this.cache) if (entry.key.id === id) this.cache.delete(hash);
    for (const [hash, entry] of this.known) if (entry.id === id) this.known.delete(hash);
  }

  listKeys(tenantId: string, input: PageInput): Promise<Page<ApiKey>> {
    const page = pageRequest(input);
    return this.uow.read((tx) => repo.listApiKeys(tx, tenantId, page));
  }

  /** A new tenant with its first ADMIN key, in one transaction: never a tenant without a key. */
  createTenant(name: string): Promise<{ tenant: Tenant } & CreatedKey> {
    const tenantName = requiredName('name', name, LIMITS.name);
    // The key's name within the limit whatever the tenant's: "<name> admin", the name cut.
    const keyName = `${tenantName.slice(0, LIMITS.name - ' admin'.length)} admin`;
    return this.uow.run(async (tx) => {
      const tenant = await repo.ensureTenant(tx, randomUUID(), tenantName);
      return { tenant, ...(await writeKey(tx, tenant.id, keyName, Role.ADMIN)) };
    });
  }

  tenant(id: string): Promise<Tenant | null> {
    return this.uow.read((tx) => repo.tenantById(tx, id));
  }

  /**
   * Makes sure `secret` is an ADMIN key of `tenantId` (creating the tenant if needed):
   * how a deployment's configured key and the local development key come to exist.
   */
  ensureAdminKey(tenantId: string, secret: string, name: string): Promise<ApiKey> {
    return this.uow.run(async (tx) => {
      await repo.ensureTenant(tx, tenantId, tenantId);
      return repo.createApiKey(tx, {
        id: randomUUID(),
        tenantId,
        name,
        role: Role.ADMIN,
        hash: hashApiKey(secret),
        prefix: keyPrefix(secret),
      });
    });
  }

  /**
   * The key with this hash, read once for all who ask while it is read: a burst of requests
   * with one key missed the cache together and each sent the same lookup (issue 15).
   */
  private lookUp(hash: string): Promise<ApiKey | null> {
    const under = this.lookups.get(hash);
    if (under) return under;
    const since = this.forgotten;
    const lookup: Promise<ApiKey | null> = this.uow
      .read((tx) => repo.apiKeyByHash(tx, hash))
      .then((key) => {
        if (key && since === this.forgotten) this.cache.set(hash, { key, at: performance.now() });
        return key;
      })
      .finally(() => {
        // Not a newer lookup of the same hash, begun after a forgetKey.
        if (this.lookups.get(hash) === lookup) this.lookups.delete(hash);
      });
    this.lookups.set(hash, lookup);
    return lookup;
  }

  private async touch(id: string): Promise<void> {
    const last = this.touched.get(id) ?? -Infinity;
    if (performance.now() - last < TOUCH_MS) return;
    this.touched.set(id, performance.now());
    await this.uow.write((tx) => repo.touchApiKey(tx, id));
  }
}

/** Writes a new key of the tenant; its secret is returned once, and only its hash stored. */
async function writeKey(tx: Tx, tenantId: string, name: string, role: Role): Promise<CreatedKey> {
  const secret = generateApiKey();
  const apiKey = await repo.createApiKey(tx, {
    id: randomUUID(),
    tenantId,
    name,
    role,
    hash: hashApiKey(secret),
    prefix: keyPrefix(secret),
  });
  return { apiKey, secret };
}

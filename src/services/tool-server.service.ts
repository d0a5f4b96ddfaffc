import { randomUUID } from 'node:crypto';
import { requestTimeLeft } from '../../graph/deadline.js';
import { deleteToolPoliciesOfServer } from '../../graph/tool-approval.repository.js';
import * as repo from '../../graph/tool-server.repository.js';
import { BadInputError, ConflictError, NotFoundError } from '../domain/errors.js';
import {
  ToolServerTransport,
  serverNameProblem,
  toolNamesProblem,
  type ToolServer,
} from '../domain/tool-server.js';
import { failureText } from '../mcp-client/args.js';
import type { McpToolPool } from '../mcp-client/pool.js';
import { connectProblem } from '../mcp-client/pool.js';
import { sealHeaders, withoutHeaderValues, type HeaderInput } from '../mcp-client/secrets.js';
import type { UnitOfWork } from './unit-of-work.js';

export interface ToolServerInput {
  name: string;
  transport: ToolServerTransport;
  url?: string | null;
  command?: string | null;
  args?: string[] | null;
  enabled?: boolean | null;
  timeoutMs?: number | null;
  headers?: HeaderInput[] | null;
}

export type ToolServerPatch = Partial<Omit<ToolServerInput, 'name' | 'transport'>>;

const MAX_TIMEOUT_MS = 600_000;
/** What a request keeps, of the time it has left, to write what listing tools found. */
const LISTING_MARGIN_MS = 500;

/**
 * `listing`, or a refusal once the running request has only LISTING_MARGIN_MS left; the
 * listing is then told to stop (its signal), so nothing goes on asking the server.
 */
function withinRequest<T>(listing: (signal?: AbortSignal) => Promise<T>): Promise<T> {
  const left = requestTimeLeft();
  if (left === null) return listing();
  const ms = Math.max(0, Math.floor(left - LISTING_MARGIN_MS));
  const late = new AbortController();
  const timer = setTimeout(
    () =>
      late.abort(
        new Error(
          `no answer within the ${ms} ms this request had left; refreshToolServer tries again`,
        ),
      ),
    ms,
  );
  const running = listing(late.signal);
  running.catch(() => {}); // given up on below: its own failure is nobody's
  // Answered at once, though the listing may notice only once connected.
  const given = new Promise<never>((_, reject) =>
    late.signal.addEventListener('abort', () => reject(late.signal.reason as Error)),
  );
  return Promise.race([running, given]).finally(() => clearTimeout(timer));
}

/**
 * Outside MCP servers for a tenant's agents (issue 16), managed by ADMINs. A server is saved
 * even when listing its tools fails (lastError says why; refreshToolServer tries again). Header
 * values are sealed before they are written and never returned; stdio servers run only from
 * the deployment's allow-list.
 */
export class ToolServerService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly pool: McpToolPool,
  ) {}

  list(tenantId: string): Promise<ToolServer[]> {
    return this.uow.read((tx) => repo.toolServers(tx, tenantId));
  }

  async get(tenantId: string, id: string): Promise<ToolServer | null> {
    return this.uow.read((tx) => repo.toolServerById(tx, tenantId, id));
  }
  /** The server, or NOT_FOUND. */
  async byId(tenantId: string, id: string): Promise<ToolServer> {
    const server = await this.get(tenantId, id);
    if (!server) throw new NotFoundError('ToolServer', id);
    return server;
  }

  async add(tenantId: string, input: ToolServerInput, actor: string): Promise<ToolServer> {
    const nameProblem = serverNameProblem(input.name);
    if (nameProblem) throw new BadInputError(nameProblem, { name: input.name });
    const props = this.check(
      {
        name: input.name,
        transport: input.transport,
        url: null,
        command: null,
        args: [],
        enabled: true,
        timeoutMs: this.pool.cfg.callTimeoutMs,
        headers: [],
        headersSealed: null,
      },
      input,
    );
    const id = randomUUID();
    await this.uow.run(async (tx) => {
      if (await repo.toolServerByName(tx, tenantId, input.name))
        throw new ConflictError(`a tool server named ${input.name} exists already`, {
          name: input.name,
        });
      await repo.createToolServer(tx, tenantId, id, props, actor);
    });
    return this.refresh(tenantId, id);
  }

  async update(
    tenantId: string,
    id: string,
    patch: ToolServerPatch,
    actor: string,
  ): Promise<ToolServer> {
    const updated = await this.uow.run(async (tx) => {
      const current = await repo.lockToolServer(tx, tenantId, id);
      if (!current) throw new NotFoundError('ToolServer', id);
      const { name, transport, url, command, args, enabled, timeoutMs, headers, headersSealed } =
        current;
      const props = this.check(
        { name, transport, url, command, args, enabled, timeoutMs, headers, headersSealed },
        patch,
      );
      return repo.updateToolServer(tx, tenantId, id, props, actor);
    });
    if (!updated) throw new NotFoundError('ToolServer', id);
    this.pool.evict(id);
    return patch.url != null || patch.command != null || patch.args != null || patch.headers
      ? this.refresh(tenantId, id)
      : updated;
  }

  /**
   * Removes a server, its grants and the policies of its tools (server__tool), in one
   * transaction: a policy left behind would apply to a later server given the same name.
   * Requests already made for its tools stay, as records. NOT_FOUND when the tenant has none
   * by that id.
   */
  async remove(tenantId: string, id: string): Promise<boolean> {
    // Refused inside the transaction: nothing, not even the audit's SUCCESS, is committed.
    await this.uow.run(async (tx) => {
      // Under its lock: setToolPolicy takes it too, so no policy is set as the server goes.
      const server = await repo.lockToolServer(tx, tenantId, id);
      if (!server) throw new NotFoundError('ToolServer', id);
      await deleteToolPoliciesOfServer(tx, tenantId, server.name);
      await repo.deleteToolServer(tx, tenantId, id);
    });
    this.pool.evict(id);
    return true;
  }

  /**
   * Lists the server's tools again and keeps them; a failure is kept in lastError. Within a
   * request, the listing gets the time the request has left but LISTING_MARGIN_MS to keep what
   * it found: a server that is slow to answer is saved with that reason, not a timed-out request.
   */
  async refresh(tenantId: string, id: string): Promise<ToolServer> {
    const server = await this.get(tenantId, id);
    if (!server) throw new NotFoundError('ToolServer', id);
    const listed = await withinRequest((signal) => this.pool.list(server, signal)).then(
      (tools) => ({ tools }),
      (err: unknown) => ({
        error: withoutHeaderValues(
          `could not list the tools: ${failureText(err)}`,
          server,
          this.pool.cfg,
        ).slice(0, 1_000),
      }),
    );
    return this.uow.run(async (tx) => {
      const saved = await repo.setToolServerTools(tx, tenantId, id, server.version, listed);
      if (!saved) throw new NotFoundError('ToolServer', id); // removed meanwhile
      return saved;
    });
  }

  /** Grants an agent, or every agent with a capability, some (`tools`) or all of a server's tools. */
  async grant(
    tenantId: string,
    g: {
      serverId: string;
      agentId?: string | null;
      capability?: string | null;
      tools?: string[] | null;
    },
  ): Promise<ToolServer> {
    const target = this.target(g);
    const server = await this.get(tenantId, g.serverId);
    if (!server) throw new NotFoundError('ToolServer', g.serverId);
    const tools = [...new Set(g.tools ?? [])];
    const problem = toolNamesProblem(server, tools);
    if (problem) throw new BadInputError(problem.message, { tools: problem.tools });
    await this.uow.run(async (tx) => {
      const ok = await repo.putGrant(tx, { tenantId, serverId: g.serverId, ...target, tools });
      if (!ok) throw new NotFoundError('Agent', target.agentId ?? '');
    });
    return server;
  }

  async revoke(
    tenantId: string,
    g: { serverId: string; agentId?: string | null; capability?: string | null },
  ): Promise<boolean> {
    const target = this.target(g);
    const outcome = await this.uow.run(async (tx) => {
      const done = await repo.deleteGrant(tx, { tenantId, serverId: g.serverId, ...target });
      if (done === 'no-server') throw new NotFoundError('ToolServer', g.serverId);
      if (done === 'no-agent') throw new NotFoundError('Agent', target.agentId ?? '');
      return done;
    });
    return outcome === 'deleted';
  }

  private target(g: { agentId?: string | null; capability?: string | null }) {
    const agentId = g.agentId ?? null;
    const capability = g.capability?.trim() || null;
    if ((agentId === null) === (capability === null))
      throw new BadInputError(
        'give exactly one of agentId (one agent) or capability (every agent that has it)',
      );
    return { agentId, capability };
  }

  /** Validates a server's fields as they would be after `input`, sealing header values. */
  private check(base: repo.ToolServerProps, input: ToolServerPatch): repo.ToolServerProps {
    const next: repo.ToolServerProps = {
      ...base,
      url: input.url !== undefined ? (input.url ?? null) : base.url,
      command: input.command !== undefined ? (input.command ?? null) : base.command,
      args: input.args !== undefined ? (input.args ?? []) : base.args,
      enabled: input.enabled ?? base.enabled,
      timeoutMs: input.timeoutMs ?? base.timeoutMs,
    };
    if (next.transport === ToolServerTransport.STDIO && !next.command)
      throw new BadInputError(
        'a STDIO server needs command (and args), as MCP_STDIO_ALLOW lists it',
      );
    if (next.transport === ToolServerTransport.HTTP && !next.url)
      throw new BadInputError('an HTTP server needs url, e.g. https://mcp.example.com/mcp');
    const http = next.transport === ToolServerTransport.HTTP;
    if (http && (input.command != null || (input.args?.length ?? 0) > 0))
      throw new BadInputError('command and args apply to STDIO servers only');
    if (!http && input.url != null) throw new BadInputError('url applies to HTTP servers only');
    const problem = connectProblem(next, this.pool.cfg);
    if (problem) throw new BadInputError(problem);
    if (next.timeoutMs < 100 || next.timeoutMs > MAX_TIMEOUT_MS)
      throw new BadInputError(
        `timeoutMs must be between 100 and ${MAX_TIMEOUT_MS}, but got ${next.timeoutMs}`,
      );
    if (input.headers) {
      if (input.headers.length > 0 && next.transport !== ToolServerTransport.HTTP)
        throw new BadInputError('headers apply to HTTP servers only');
      Object.assign(next, sealHeaders(input.headers, this.pool.cfg.secretKey));
    }
    return next;
  }
}

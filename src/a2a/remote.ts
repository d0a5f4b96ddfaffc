import { AgentCard, Role, TaskState, type Message, type Task } from '@a2a-js/sdk';
import {
  ClientFactory,
  ClientFactoryOptions,
  JsonRpcTransportFactory,
  RestTransportFactory,
} from '@a2a-js/sdk/client';
import {
  fetchWithinOrigin,
  isWithinOrigin,
  unfollowedRedirect,
} from '@modelcontextprotocol/sdk/shared/transport.js';
import { AgentRole, type Agent, type RemoteAgent } from '../domain/agent.js';
import { causeOf } from '../domain/error-causes.js';
import { BadInputError } from '../domain/errors.js';
import { ToolCallStatus, ToolServerTransport } from '../domain/tool-server.js';
import { StepError, type StepContext } from '../engine/executor.js';
import type { AgentRuntime } from '../agents/runtime.js';
import { DEFAULT_MCP_CLIENT, type McpClientConfig } from '../mcp-client/config.js';
import { capBody, tooLargeMessage, TooLargeError } from '../mcp-client/limit.js';
import { failureText } from '../mcp-client/args.js';
import { connectProblem } from '../mcp-client/pool.js';
import { writeToolCall } from '../mcp-client/record.js';
import {
  resolveHeaders,
  sealHeaders,
  withoutHeaderValues,
  type HeaderInput,
} from '../mcp-client/secrets.js';
import type { AgentService } from '../services/agent.service.js';
import { CARD_PATH } from './card.js';
import { textMessage } from './executor.js';
import { describeStep } from '../agents/prompts.js';

export interface RemoteAgentInput {
  name: string;
  /** The agent's base URL: its card is at url + /.well-known/agent-card.json. */
  url: string;
  description?: string | null;
  /** Capabilities it is given steps for; its card's skills when left out. */
  capabilities?: string[] | null;
  headers?: HeaderInput[] | null;
}

const CARD_TIMEOUT_MS = 10_000;
/**
 * The most of a remote agent's answer kept as the step's result: it is stored on the task and
 * read into later steps' prompts, so one agent's 300 kB answer must not ride along everywhere.
 */
const RESULT_MAX_CHARS = 100_000;

/**
 * Outside A2A agents as Master Operators of the organisation (issue 16): registered by an
 * ADMIN from their card, given steps by Chiefs of Staff like any operator (by capability),
 * and sent each step as an A2A message (executeRemote). URLs and header secrets follow the
 * MCP client's rules (MCP_HTTP_ALLOW_HOSTS, MCP_SECRET_KEY, MCP_HEADER_*).
 */
export class RemoteAgentService {
  constructor(
    private readonly agents: AgentService,
    private readonly cfg: McpClientConfig = DEFAULT_MCP_CLIENT,
  ) {}

  async add(tenantId: string, input: RemoteAgentInput, actor: string): Promise<Agent> {
    // Checked before trimming: the length limit keeps the trim's regex from a long run.
    const problem = connectProblem(
      { transport: ToolServerTransport.HTTP, url: input.url, command: null, args: [] },
      this.cfg,
    );
    if (problem) throw new BadInputError(problem);
    const url = input.url.replace(/\/+$/, '');
    const sealed = sealHeaders(input.headers ?? [], this.cfg.secretKey);
    const card = await readCard(url, this.cfg.maxMessageBytes).catch((err: unknown) => {
      throw new BadInputError((err as Error).message);
    });
    if (!sameOriginInterfaces(card, url).length) throw new BadInputError(strayCard(card, url));
    const capabilities = input.capabilities?.length
      ? input.capabilities
      : card.skills.map((s) => s.id || s.name).filter(Boolean);
    if (capabilities.length === 0)
      throw new BadInputError(
        'its card lists no skills: give capabilities (what steps it should be given)',
      );
    const remote: RemoteAgent = { url, ...sealed };
    const [agent] = await this.agents.createMany(
      tenantId,
      [
        {
          name: input.name,
          description: input.description ?? (card.description || null),
          role: AgentRole.MASTER_OPERATOR,
          capabilities: capabilities.map((name) => ({ name })),
        },
      ],
      actor,
      remote,
    );
    return agent!;
  }
}

/** A redirect off the agent's origin: fixed by adding the agent at its new address. */
class StrayRedirectError extends Error {}

const followWithinOrigin = fetchWithinOrigin();
/**
 * fetch that follows a redirect only within the request's origin, as the MCP SDK does for MCP
 * servers, and fails any other, naming its target: fetch would follow it with the body and
 * every header but Authorization, to a host that neither the ADMIN nor the allow-list chose.
 */
const originFetch: typeof fetch = async (input, init) => {
  const url = input instanceof Request ? input.url : input;
  const res = await followWithinOrigin(url, init);
  const moved = bodylessRedirect(res, url, init?.method);
  if (moved) {
    await res.body?.cancel().catch(() => {});
    throw new StrayRedirectError(moved);
  }
  const stray = unfollowedRedirect(res, url);
  if (!stray) return res;
  await res.body?.cancel().catch(() => {});
  throw new StrayRedirectError(
    `${stray}: requests go only to the origin the agent was added with (add it again at its new address)`,
  );
};

/**
 * A 301, 302 or 303 to a POST within the origin, which the SDK leaves unfollowed: fetch would
 * resend it as a GET without the step. Says where the card should point instead.
 */
function bodylessRedirect(res: Response, url: string | URL, method = 'GET'): string | undefined {
  if (![301, 302, 303].includes(res.status) || /^(GET|HEAD)$/i.test(method)) return undefined;
  const location = res.headers.get('location');
  if (!location) return undefined;
  const from = new URL(url);
  const target = new URL(location, from);
  if (!isWithinOrigin(from, target)) return undefined; // unfollowedRedirect names it
  target.username = target.password = target.search = target.hash = '';
  return (
    `${from.origin}${from.pathname} answered ${res.status} to a ${method.toUpperCase()}, ` +
    `redirecting to ${target.href}: not followed, since it would be resent as a GET without ` +
    `the step; its card should name ${target.href} as its endpoint`
  );
}

/**
 * originFetch whose replies are cut off at `max` bytes (MCP_MAX_MESSAGE_BYTES, as for MCP
 * servers): the SDK reads a reply whole, and a card or answer of any size would be held.
 */
const cappedFetch =
  (max: number): typeof fetch =>
  async (input, init) =>
    capBody(
      await originFetch(input, init),
      max,
      () =>
        new TooLargeError(
          tooLargeMessage(
            max,
            "the remote agent's reply",
            'raise the limit if its answers are meant to be that large',
          ),
        ),
    );

/** A2A clients whose requests never leave the agent's origin by a redirect, nor read past max. */
const clientsFor = (max: number) =>
  new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [
        new JsonRpcTransportFactory({ fetchImpl: cappedFetch(max) }),
        new RestTransportFactory({ fetchImpl: cappedFetch(max) }),
      ],
    }),
  );

/** The agent card at `url`, or an error naming where it was looked for and why it failed. */
async function readCard(url: string, max: number, signal?: AbortSignal): Promise<AgentCard> {
  const timeout = AbortSignal.timeout(CARD_TIMEOUT_MS);
  return cappedFetch(max)(`${url}${CARD_PATH}`, {
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  })
    .then(async (res) => {
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return AgentCard.fromJSON(await res.json());
    })
    .catch((err: unknown) => {
      throw new Error(
        `could not read an A2A agent card at ${url}${CARD_PATH}: ${failureText(err)}`,
        { cause: err },
      );
    });
}

const originOf = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
};

/**
 * The card's endpoints on the origin the agent was added with. The ADMIN's headers (a token)
 * are for that origin only: a card, which the remote side can change at any time, must not
 * send them anywhere else.
 */
function sameOriginInterfaces(card: AgentCard, url: string) {
  return card.supportedInterfaces.filter((i) => originOf(i.url) === originOf(url));
}

const strayCard = (card: AgentCard, url: string) =>
  `its card sends requests to ${[...new Set(card.supportedInterfaces.map((i) => originOf(i.url) ?? i.url))].join(', ') || 'no endpoint'}, not to ${originOf(url)} where it was added; the platform sends its credentials only there (fix the card or add the agent again at the new address)`;

const textOfParts = (parts: Message['parts']) =>
  parts.map((p) => (p.content?.$case === 'text' ? p.content.value : '')).join('');

/**
 * Runs a step on the outside A2A agent its assignee stands for: one blocking SendMessage with
 * the step and its inputs, ended by the step's own signal (timeout, cancel). The result is the
 * task's artifacts' text (or the message's). Recorded like a tool call on the run. A task the
 * remote agent did not complete fails the step, retryably when it failed and not when it
 * refused; a card or reply past MCP_MAX_MESSAGE_BYTES fails it at once, not retryably.
 */
export async function executeRemote(
  rt: AgentRuntime,
  step: StepContext,
  remote: RemoteAgent,
): Promise<string> {
  const { task, agent } = step;
  const text = describeStep(task, step.inputs);
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  let result = '';
  let error: string | null = null;
  let transient = true;
  const cfg = rt.mcp?.cfg ?? DEFAULT_MCP_CLIENT;
  try {
    // Checked at each call: the allow-list may have changed, and imports bring URLs too.
    const problem = connectProblem(
      { transport: ToolServerTransport.HTTP, url: remote.url, command: null, args: [] },
      cfg,
    );
    if (problem) {
      transient = false;
      throw new Error(problem);
    }
    const card = await readCard(remote.url, cfg.maxMessageBytes, step.signal);
    const endpoints = sameOriginInterfaces(card, remote.url);
    if (endpoints.length === 0) {
      transient = false;
      throw new Error(strayCard(card, remote.url));
    }
    const client = await clientsFor(cfg.maxMessageBytes).createFromAgentCard({
      ...card,
      supportedInterfaces: endpoints,
    });
    const out = await client.sendMessage(textRequest(text), {
      signal: step.signal,
      serviceParameters: resolveHeaders(remote, cfg),
    });
    if ('parts' in out) {
      result = textOfParts((out as Message).parts);
    } else {
      const done = out as Task;
      result = done.artifacts.map((a) => textOfParts(a.parts)).join('\n');
      const state = done.status?.state;
      if (state !== TaskState.TASK_STATE_COMPLETED) {
        const why = done.status?.message ? textOfParts(done.status.message.parts) : '';
        error = `the remote agent ended the task ${TaskState[state ?? 0] ?? state}${why ? `: ${why}` : ''}`;
        transient = state === TaskState.TASK_STATE_FAILED;
      }
    }
  } catch (err) {
    if (step.signal.aborted) throw step.signal.reason;
    error = err instanceof Error ? err.message : String(err);
    if (causeOf(err, StrayRedirectError)) transient = false;
    // The SDK wraps a failed error reply's body ("HTTP error ..."): say why it failed.
    const tooLarge = causeOf(err, TooLargeError);
    if (tooLarge) transient = false;
    if (tooLarge && !error.includes(tooLarge.message)) error += ` (${tooLarge.message})`;
  }
  // An agent may repeat the credentials it was sent: every key that reads the task sees this.
  if (error) error = withoutHeaderValues(error, remote, cfg);
  const truncated = result.length > RESULT_MAX_CHARS;
  await writeToolCall(rt, step, {
    serverId: agent.id,
    server: agent.name,
    tool: 'SendMessage',
    callId: 'a2a',
    args: { text: text.slice(0, 2_000) },
    text: result,
    truncated,
    durationMs: Math.round(performance.now() - t0),
    status: error ? ToolCallStatus.ERROR : ToolCallStatus.OK,
    error: error?.slice(0, 500) ?? null,
    startedAt,
  });
  if (error) throw new StepError(`${agent.name} (a remote A2A agent): ${error}`, transient);
  return truncated
    ? `${result.slice(0, RESULT_MAX_CHARS)}\n[cut: the first ${RESULT_MAX_CHARS} of ${result.length} characters]`
    : result;
}

/** An A2A SendMessage request of one plain-text message, in a new task. */
export function textRequest(text: string, returnImmediately = false) {
  return {
    tenant: '',
    message: textMessage(Role.ROLE_USER, { taskId: '', contextId: '' }, text),
    configuration: {
      acceptedOutputModes: ['text/plain'],
      taskPushNotificationConfig: undefined,
      returnImmediately,
    },
    metadata: undefined,
  };
}

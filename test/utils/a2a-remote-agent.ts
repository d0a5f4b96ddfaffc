import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentCard, A2A_PROTOCOL_VERSION, Role, TaskState, type Task } from '@a2a-js/sdk';
import {
  AgentEvent,
  DefaultRequestHandler,
  InMemoryTaskStore,
  JsonRpcTransportHandler,
  ServerCallContext,
  type AgentExecutor,
} from '@a2a-js/sdk/server';

/** What the remote agent was sent: the message's text and the request's Authorization. */
export interface Received {
  text: string;
  authorization: string | undefined;
}

export interface RemoteA2AAgent {
  /** Its base URL (the card is at url + /.well-known/agent-card.json). */
  url: string;
  received: Received[];
  /** Makes its card name another endpoint for requests (a card changed after it was added). */
  cardPointsTo(url: string | null): void;
  close(): Promise<void>;
}

/**
 * An outside A2A agent for tests, built with the SDK's server parts on node:http: skill
 * `translation`; it answers a message with a COMPLETED task whose artifact is
 * `translated: <first line>` (300,000 characters when the text says "at length"), or REJECTED
 * when the text says "refuse". With `token`, a request
 * without `Authorization: Bearer <token>` gets 401.
 */
export async function startRemoteA2AAgent(opts: { token?: string } = {}): Promise<RemoteA2AAgent> {
  const received: Received[] = [];
  let current: string | undefined;
  const executor: AgentExecutor = {
    execute: async (rc, bus) => {
      const text = rc.userMessage.parts
        .map((p) => (p.content?.$case === 'text' ? p.content.value : ''))
        .join('');
      received.push({ text, authorization: current });
      const refuse = /refuse/i.test(text);
      const part = (value: string) => ({
        content: { $case: 'text' as const, value },
        metadata: undefined,
        filename: '',
        mediaType: 'text/plain',
      });
      const task: Task = {
        id: rc.taskId,
        contextId: rc.contextId,
        status: {
          state: refuse ? TaskState.TASK_STATE_REJECTED : TaskState.TASK_STATE_COMPLETED,
          message: refuse
            ? {
                messageId: `${rc.taskId}-why`,
                contextId: rc.contextId,
                taskId: rc.taskId,
                role: Role.ROLE_AGENT,
                parts: [part('I do not translate that')],
                metadata: undefined,
                extensions: [],
                referenceTaskIds: [],
              }
            : undefined,
          timestamp: new Date().toISOString(),
        },
        artifacts: refuse
          ? []
          : [
              {
                artifactId: 'translation',
                name: 'translation',
                description: '',
                parts: [
                  part(
                    /at length/i.test(text)
                      ? `translated: ${'word '.repeat(60_000)}`
                      : `translated: ${text.split('\n')[0]}`,
                  ),
                ],
                metadata: undefined,
                extensions: [],
              },
            ],
        history: [rc.userMessage],
        metadata: undefined,
      };
      bus.publish(AgentEvent.task(task));
      bus.finished();
    },
    cancelTask: async (_taskId, bus) => bus.finished(),
  };

  let base = '';
  let elsewhere: string | null = null;
  const card = (): AgentCard => ({
    name: 'Remote translator',
    description: 'Translates text',
    supportedInterfaces: [
      {
        url: elsewhere ?? `${base}/a2a`,
        protocolBinding: 'JSONRPC',
        tenant: '',
        protocolVersion: A2A_PROTOCOL_VERSION,
      },
    ],
    provider: undefined,
    version: '1.0.0',
    capabilities: { streaming: false, pushNotifications: false, extensions: [] },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: [
      {
        id: 'translation',
        name: 'translation',
        description: 'Translates text',
        tags: [],
        examples: [],
        inputModes: [],
        outputModes: [],
        securityRequirements: [],
      },
    ],
    signatures: [],
  });
  let rpc: JsonRpcTransportHandler | undefined; // made once the card knows its URL
  const http = createServer((req, res) => {
    void (async () => {
      if (req.method === 'GET' && req.url === '/.well-known/agent-card.json') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(AgentCard.toJSON(card())));
        return;
      }
      if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) {
        res.statusCode = 401;
        res.end();
        return;
      }
      let body = '';
      for await (const chunk of req) body += String(chunk);
      current = req.headers.authorization;
      const out = await rpc!.handle(
        JSON.parse(body) as Record<string, unknown>,
        new ServerCallContext({ user: { isAuthenticated: false, userName: '' } }),
      );
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(out));
    })();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  rpc = new JsonRpcTransportHandler(
    new DefaultRequestHandler(card(), new InMemoryTaskStore(), executor),
  );
  return {
    url: base,
    received,
    cardPointsTo: (url) => {
      elsewhere = url;
    },
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

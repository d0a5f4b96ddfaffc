import { A2A_PROTOCOL_VERSION, type AgentCard, type AgentSkill } from '@a2a-js/sdk';
import { VERSION } from '../version.js';

/** The path A2A clients fetch an agent's card from. */
export const CARD_PATH = '/.well-known/agent-card.json';
/** Where the platform answers A2A's JSON-RPC. */
export const A2A_PATH = '/a2a';

/**
 * The platform as one A2A agent: an organisation that takes a task as a message, plans it and
 * runs it. The public card names no tenant's data; the extended card, for a caller with an API
 * key, lists that tenant's capabilities as skills.
 */
export function agentCard(baseUrl: string, skills: AgentSkill[] = []): AgentCard {
  return {
    name: 'Agent platform',
    description:
      'An organisation of AI agents: send a task as a message; a Chief of Staff plans it, Master Operators run the steps, and the result comes back as an artifact.',
    supportedInterfaces: [
      {
        url: `${baseUrl}${A2A_PATH}`,
        protocolBinding: 'JSONRPC',
        tenant: '',
        protocolVersion: A2A_PROTOCOL_VERSION,
      },
    ],
    provider: undefined,
    version: VERSION,
    capabilities: {
      streaming: true,
      pushNotifications: false,
      extensions: [],
      extendedAgentCard: true,
    },
    securitySchemes: {
      apiKey: {
        scheme: {
          $case: 'httpAuthSecurityScheme',
          value: {
            description:
              'An API key of the platform, as GraphQL takes it (role OPERATOR to send tasks)',
            scheme: 'Bearer',
            bearerFormat: 'API key',
          },
        },
      },
    },
    securityRequirements: [{ schemes: { apiKey: { list: [] } } }],
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills,
    signatures: [],
  };
}

/** A tenant's capabilities as A2A skills: what its Master Operators can be given. */
export function skillsOf(capabilities: string[]): AgentSkill[] {
  return [...new Set(capabilities)].sort().map((name) => ({
    id: name,
    name,
    description: `Steps that need ${name}, run by the organisation's agents that have it`,
    tags: [name],
    examples: [],
    inputModes: ['text/plain'],
    outputModes: ['text/plain'],
    securityRequirements: [],
  }));
}

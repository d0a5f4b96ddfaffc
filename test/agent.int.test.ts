import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './generated/index.js';
import type { ListAgentsQuery, ListAgentsQueryVariables } from './generated/graphql.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';

const AgentFields = graphql(`
  fragment AgentFields on Agent {
    id
    name
    description
    role
    status
    active
    model
    version
    createdAt
    updatedAt
    capabilities {
      name
      proficiency
      runs
    }
  }
`);

const CreateAgent = graphql(`
  mutation CreateAgent($input: CreateAgentInput!) {
    createAgent(input: $input) {
      ...AgentFields
    }
  }
`);

const CreateAgents = graphql(`
  mutation CreateAgents($inputs: [CreateAgentInput!]!) {
    createAgents(inputs: $inputs) {
      id
      name
    }
  }
`);

const GetAgent = graphql(`
  query GetAgent($id: ID!) {
    agent(id: $id) {
      ...AgentFields
    }
  }
`);

const UpdateAgent = graphql(`
  mutation UpdateAgent($id: ID!, $input: UpdateAgentInput!) {
    updateAgent(id: $id, input: $input) {
      ...AgentFields
    }
  }
`);

const SetAgentStatus = graphql(`
  mutation SetAgentStatus($id: ID!, $status: AgentStatus!) {
    setAgentStatus(id: $id, status: $status) {
      id
      status
    }
  }
`);

const Deactivate = graphql(`
  mutation DeactivateAgent($id: ID!) {
    deactivateAgent(id: $id) {
      id
      active
      status
    }
  }
`);

const Activate = graphql(`
  mutation ActivateAgent($id: ID!) {
    activateAgent(id: $id) {
      id
      active
      status
    }
  }
`);

const DeleteAgent = graphql(`
  mutation DeleteAgent($id: ID!) {
    deleteAgent(id: $id) {
      id
      reassignedTaskIds
    }
  }
`);

const ListAgents = graphql(`
  query ListAgents($filter: AgentFilter, $first: Int, $after: String, $orderBy: AgentOrder) {
    agents(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          id
          name
        }
      }
    }
  }
`);

const AgentStatusChanged = graphql(`
  subscription AgentStatusChanged($agentId: ID) {
    agentStatusChanged(agentId: $agentId) {
      previousStatus
      agent {
        id
        status
      }
    }
  }
`);

describe('agents', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  const create = async (name: string, extra: Record<string, unknown> = {}) => {
    const res = await server.gql(CreateAgent, {
      input: { name, role: 'MASTER_OPERATOR', ...extra },
    });
    expect(res.errors).toBeUndefined();
    return res.data!.createAgent;
  };

  it('are created with capabilities, read back, updated and deleted', async () => {
    const agent = await create('Researcher', {
      description: 'finds things',
      model: 'gpt-4o-mini',
      capabilities: [{ name: 'research', proficiency: 0.9 }, { name: 'writing' }],
    });
    expect(agent).toMatchObject({
      name: 'Researcher',
      status: 'IDLE',
      active: true,
      role: 'MASTER_OPERATOR',
      capabilities: [
        { name: 'research', proficiency: 0.9, runs: 0 },
        { name: 'writing', proficiency: 0.5, runs: 0 },
      ],
    });
    expect(new Date(String(agent.createdAt)).toISOString()).toBe(agent.createdAt);

    const read = await server.gql(GetAgent, { id: agent.id });
    expect(read.data?.agent).toEqual(agent);

    const updated = await server.gql(UpdateAgent, {
      id: agent.id,
      input: { description: null, capabilities: [{ name: 'research', proficiency: 0.7 }] },
    });
    expect(updated.data?.updateAgent).toMatchObject({
      description: null,
      name: 'Researcher',
      capabilities: [{ name: 'research', proficiency: 0.7 }],
    });

    const deleted = await server.gql(DeleteAgent, { id: agent.id });
    expect(deleted.data?.deleteAgent).toEqual({ id: agent.id, reassignedTaskIds: [] });
    const gone = await server.gql(GetAgent, { id: agent.id });
    expect(gone.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('follow the status transition table and name both ends when refused', async () => {
    const agent = await create('Worker');
    expect((await server.gql(SetAgentStatus, { id: agent.id, status: 'BUSY' })).data).toEqual({
      setAgentStatus: { id: agent.id, status: 'BUSY' },
    });
    await server.gql(SetAgentStatus, { id: agent.id, status: 'PAUSED' });
    const refused = await server.gql(SetAgentStatus, { id: agent.id, status: 'BUSY' });
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      from: 'PAUSED',
      to: 'BUSY',
    });
    expect(refused.errors?.[0]?.message).toContain('from PAUSED to BUSY');
  });

  it('are deactivated to OFFLINE and activated back to IDLE', async () => {
    const agent = await create('Sleeper');
    expect((await server.gql(Deactivate, { id: agent.id })).data?.deactivateAgent).toEqual({
      id: agent.id,
      active: false,
      status: 'OFFLINE',
    });
    expect((await server.gql(Activate, { id: agent.id })).data?.activateAgent).toEqual({
      id: agent.id,
      active: true,
      status: 'IDLE',
    });
  });

  it('refuse a second agent with the same name', async () => {
    await create('Unique');
    const res = await server.gql(CreateAgent, {
      input: { name: 'Unique', role: 'CHIEF_OF_STAFF' },
    });
    expect(res.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(res.errors?.[0]?.message).toContain('"Unique" already exists');
  });

  it('are created in batches, all or nothing', async () => {
    const ok = await server.gql(CreateAgents, {
      inputs: [
        { name: 'Batch A', role: 'MASTER_OPERATOR' },
        { name: 'Batch B', role: 'CHIEF_OF_STAFF' },
      ],
    });
    expect(ok.data?.createAgents.map((a) => a.name)).toEqual(['Batch A', 'Batch B']);

    const bad = await server.gql(CreateAgents, {
      inputs: [
        { name: 'Batch C', role: 'MASTER_OPERATOR' },
        { name: 'Batch A', role: 'MASTER_OPERATOR' },
      ],
    });
    expect(bad.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const list = await server.gql(ListAgents, { filter: { text: 'Batch C' } });
    expect(list.data?.agents.totalCount).toBe(0);

    // A refusal names the item by the argument's own name (it said "agents[1].").
    const blank = await server.gql(CreateAgents, {
      inputs: [
        { name: 'Batch D', role: 'MASTER_OPERATOR' },
        { name: ' ', role: 'MASTER_OPERATOR' },
      ],
    });
    expect(blank.errors?.[0]?.message).toMatch(/^inputs\[1\]\.name /);
  });

  it('filter by role, status, capability and text', async () => {
    await create('Filter Coder', { capabilities: [{ name: 'filter-code' }] });
    const cos = await server.gql(CreateAgent, {
      input: { name: 'Filter Chief', role: 'CHIEF_OF_STAFF', description: 'plans the filters' },
    });
    const byCap = await server.gql(ListAgents, { filter: { capability: 'filter-code' } });
    expect(byCap.data?.agents.edges.map((e) => e.node.name)).toEqual(['Filter Coder']);
    const byRole = await server.gql(ListAgents, {
      filter: { role: 'CHIEF_OF_STAFF', text: 'FILTERS' },
    });
    expect(byRole.data?.agents.edges.map((e) => e.node.id)).toEqual([cos.data!.createAgent.id]);
    await server.gql(SetAgentStatus, { id: cos.data!.createAgent.id, status: 'PAUSED' });
    const paused = await server.gql(ListAgents, { filter: { status: ['PAUSED'], text: 'filter' } });
    expect(paused.data?.agents.totalCount).toBe(1);
  });

  it('page with no duplicates and no gaps while rows are inserted between pages', async () => {
    const names = Array.from({ length: 7 }, (_, i) => `Page ${i}`);
    await server.gql(CreateAgents, {
      inputs: names.map((name) => ({ name, role: 'MASTER_OPERATOR' as const })),
    });
    const seen: string[] = [];
    let after: string | null | undefined = null;
    let inserted = 0;
    for (;;) {
      const res: Awaited<ReturnType<typeof server.gql<ListAgentsQuery, ListAgentsQueryVariables>>> =
        await server.gql(ListAgents, {
          filter: { text: 'Page ' },
          first: 3,
          after,
          orderBy: 'CREATED_ASC',
        });
      const conn = res.data!.agents;
      seen.push(...conn.edges.map((e) => e.node.name));
      // Insert between page reads: they sort after the cursor and must show up exactly once.
      if (inserted < 2) await create(`Page late ${inserted++}`);
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(seen.slice(0, 7).sort()).toEqual([...names].sort());
    expect(seen).toContain('Page late 0');
    expect(seen).toContain('Page late 1');
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('refuse a page size over the maximum', async () => {
    const res = await server.gql(ListAgents, { first: 500 });
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toBe('first must be between 1 and 100, but got 500');
  });

  it('announce status changes of one agent, after commit, in order', async () => {
    const agent = await create('Announcer');
    const other = await create('Bystander');
    const sub = await subscribe(server, AgentStatusChanged, { agentId: agent.id });
    try {
      await server.gql(SetAgentStatus, { id: other.id, status: 'BUSY' });
      await server.gql(SetAgentStatus, { id: agent.id, status: 'BUSY' });
      await server.gql(SetAgentStatus, { id: agent.id, status: 'IDLE' });
      // A refused transition rolls back and announces nothing.
      await server.gql(SetAgentStatus, { id: agent.id, status: 'IDLE' });
      await server.gql(Deactivate, { id: agent.id });
      const events = [await sub.waitForNext(), await sub.waitForNext(), await sub.waitForNext()];
      expect(events.map((e) => e.data?.agentStatusChanged)).toEqual([
        { previousStatus: 'IDLE', agent: { id: agent.id, status: 'BUSY' } },
        { previousStatus: 'BUSY', agent: { id: agent.id, status: 'IDLE' } },
        { previousStatus: 'IDLE', agent: { id: agent.id, status: 'OFFLINE' } },
      ]);
      // Nothing else, neither the bystander nor the refused transition: reactivating the agent
      // (OFFLINE to IDLE) is the next event.
      const extra = await sub.heardBefore(
        () => server.gql(Activate, { id: agent.id }),
        (e) => e.data?.agentStatusChanged.previousStatus === 'OFFLINE',
      );
      expect(extra).toEqual([]);
    } finally {
      await sub.close();
    }
  });
});

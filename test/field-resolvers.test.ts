import { describe, expect, it } from 'vitest';
import { isObjectType } from 'graphql';
import { buildAppSchema } from '../src/server/schema.js';
import { TASK_PROPERTIES } from '../graph/mappers.js';
import { answerAhead, answerReadAhead } from '../resolvers/read-ahead.js';

/**
 * A plain field of an answer (an agent's name, a task's title) must resolve synchronously: a
 * type-graphql global middleware wrapped every field of every type in async functions, a few
 * promises for each of the thousands of fields of a nested read (issue 15, bench:api), although
 * the middleware (the mutations' audit) acts only on mutations.
 */
const PLAIN_FIELDS = [
  'Agent.id',
  'Agent.name',
  'Agent.status',
  'Task.id',
  'Task.title',
  'Task.status',
  'AgentCapability.name',
  'Run.id',
  'Message.content',
];

describe('field resolvers', () => {
  it('resolve the plain fields of query answers without a promise', async () => {
    const schema = await buildAppSchema();
    const answers = PLAIN_FIELDS.map((name) => {
      const [typeName, fieldName] = name.split('.') as [string, string];
      const type = schema.getType(typeName);
      if (!isObjectType(type)) throw new Error(`${typeName} is not an object type`);
      const field = type.getFields()[fieldName];
      if (!field) throw new Error(`${name} is not a field`);
      const value = field.resolve
        ? field.resolve({ [fieldName]: 'x' }, {}, {}, { parentType: type, fieldName } as never)
        : 'x';
      return { name, promise: value instanceof Promise, value };
    });
    for (const a of answers) if (a.value instanceof Promise) await a.value;
    expect(answers.filter((a) => a.promise).map((a) => a.name)).toEqual([]);
    expect(answers.map((a) => a.value)).toEqual(PLAIN_FIELDS.map(() => 'x'));
  });

  it('read every Task field named like a task property from that property alone', async () => {
    // What agent.tasks' narrow read relies on (taskPropertiesOnly): a selection of such fields
    // needs no property it did not name, so no field resolver may hide behind those names.
    const schema = await buildAppSchema();
    const task = schema.getType('Task');
    if (!isObjectType(task)) throw new Error('Task is not an object type');
    const fields = task.getFields();
    const named = TASK_PROPERTIES.filter((p) => fields[p]);
    expect(named).toEqual(expect.arrayContaining(['id', 'title', 'status', 'createdAt']));
    const reads = named.map((p) => {
      const field = fields[p]!;
      const root = { [p]: `value of ${p}` };
      const info = { parentType: task, fieldName: p } as never;
      return field.resolve ? field.resolve(root, {}, {}, info) : root[p];
    });
    expect(reads).toEqual(named.map((p) => `value of ${p}`));
  });

  it('answer what a page read ahead for an agent at once, and check roles otherwise', async () => {
    const schema = await buildAppSchema();
    const agent = schema.getType('Agent');
    if (!isObjectType(agent)) throw new Error('Agent is not an object type');
    const { tasks, capabilities } = agent.getFields();
    const info = { parentType: agent, fieldName: 'tasks' } as never;
    const read = { id: 'a' };
    const value = [{ id: 't' }];
    answerAhead(read, 'tasks', value);
    expect(tasks!.resolve!(read, { first: 10 }, {}, info)).toBe(value);
    // Not read ahead: its resolver runs, role check first (no key here: UNAUTHENTICATED).
    const unread = capabilities!.resolve!(read, {}, {}, info);
    expect(unread).toBeInstanceOf(Promise);
    await expect(unread).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('refuse to answer ahead a field that needs a stronger role than its list', async () => {
    const schema = await buildAppSchema();
    class Agent {}
    const storage = {
      queries: [{ schemaName: 'agents', roles: ['VIEWER'] }],
      fieldResolvers: [
        { schemaName: 'tasks', roles: ['OPERATOR'], getObjectType: () => Agent },
        { schemaName: 'capabilities', roles: ['VIEWER'], getObjectType: () => Agent },
      ],
      objectTypes: [{ target: Agent, name: 'Agent' }],
    };
    expect(() => answerReadAhead(schema, storage as never)).toThrow(
      'Agent.tasks needs a stronger role than Query.agents',
    );
  });
});

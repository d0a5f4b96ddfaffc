import { describe, expect, it } from 'vitest';
import { BadInputError } from '../src/domain/errors.js';
import {
  isSignedBy,
  organisationSignature,
  type ExportedNode,
} from '../src/domain/organisation-export.js';
import { checkNodeRules, checkRelationshipRule } from '../src/domain/organisation-rules.js';

const at = { $datetime: '2024-05-01T10:20:30Z' };

const agent: ExportedNode = {
  label: 'Agent',
  id: 'a1',
  properties: {
    name: 'Ada',
    role: 'MASTER_OPERATOR',
    status: 'IDLE',
    active: true,
    version: { $int: 1 },
    createdAt: at,
    updatedAt: at,
    // Properties the platform does not own pass as they are.
    mood: 'cheerful',
  },
};

function refusal(run: () => void): BadInputError {
  try {
    run();
  } catch (err) {
    if (err instanceof BadInputError) return err;
    throw err;
  }
  throw new Error('expected a BadInputError');
}

describe('the domain rules of an imported organisation', () => {
  it('accepts a node with every property the API writes, plus its own', () => {
    expect(() => checkNodeRules([agent])).not.toThrow();
  });

  it('names the first bad node by index, id and property', () => {
    const broken = { ...agent, id: 'a2', properties: { ...agent.properties, version: 1.5 } };
    const err = refusal(() => checkNodeRules([agent, broken]));
    expect(err.message).toBe(
      'The organisation document breaks a domain rule at nodes[1] (Agent "a2"): nodes[1].properties.version must be an integer ({"$int": n}), but got 1.5',
    );
    expect(err.details).toEqual({ field: 'nodes[1].properties.version', index: 1, id: 'a2' });
  });

  it('uses the API validators for bounds', () => {
    const long = { ...agent, properties: { ...agent.properties, name: 'x'.repeat(101) } };
    expect(refusal(() => checkNodeRules([long])).message).toContain(
      'nodes[0].properties.name must be 1 to 100 characters, but got 101',
    );
  });

  it('checks the labels and statistics of relationships the platform reads', () => {
    const rel = { type: 'HAS_CAPABILITY', from: 'a1', to: 'c1', properties: {} };
    expect(refusal(() => checkRelationshipRule(0, rel, 'Agent', 'Capability')).message).toContain(
      'relationships[0].properties.runs is missing',
    );
    const wrong = { ...rel, type: 'OF' };
    expect(refusal(() => checkRelationshipRule(2, wrong, 'Agent', 'Capability')).message).toContain(
      'relationships[2]: OF must go from Run to Task',
    );
    const own = { ...rel, type: 'LIKES' };
    expect(() => checkRelationshipRule(0, own, 'Agent', 'Capability')).not.toThrow();
  });

  it('takes the judged statistics of HAS_CAPABILITY when given, and checks their kinds (issue 12)', () => {
    const stats = { runs: { $int: 3 }, successes: { $int: 2 } };
    const rel = (properties: object) => ({
      type: 'HAS_CAPABILITY',
      from: 'a1',
      to: 'c1',
      properties: { ...stats, ...properties },
    });
    const judged = rel({ scored: { $int: 2 }, scoreSum: 1.4 });
    expect(() => checkRelationshipRule(0, judged, 'Agent', 'Capability')).not.toThrow();
    expect(() => checkRelationshipRule(0, rel({}), 'Agent', 'Capability')).not.toThrow();
    expect(
      refusal(() => checkRelationshipRule(0, rel({ scored: 2.5 }), 'Agent', 'Capability')).message,
    ).toContain('relationships[0].properties.scored must be an integer');
    expect(
      refusal(() => checkRelationshipRule(0, rel({ scoreSum: -1 }), 'Agent', 'Capability')).message,
    ).toContain('relationships[0].properties.scoreSum');
  });
});

describe('the signature of an exported organisation', () => {
  const nodes = [agent, { label: 'Entity', id: 'e1', properties: {} }];

  it('holds for its organisation whatever the node order, and for no other', () => {
    const signature = organisationSignature('secret', 'acme', nodes);
    expect(isSignedBy('secret', 'acme', { nodes: [...nodes].reverse(), signature })).toBe(true);
    expect(isSignedBy('secret', 'other', { nodes, signature })).toBe(false);
    expect(isSignedBy('another secret', 'acme', { nodes, signature })).toBe(false);
  });

  it('breaks when an id is added or changed', () => {
    const signature = organisationSignature('secret', 'acme', nodes);
    const added = [...nodes, { label: 'Entity', id: 'someone-elses' }];
    expect(isSignedBy('secret', 'acme', { nodes: added, signature })).toBe(false);
    expect(isSignedBy('secret', 'acme', { nodes: [nodes[0]!], signature })).toBe(false);
    expect(isSignedBy('secret', 'acme', { nodes })).toBe(false);
  });
});

describe('the times the platform reads from an imported Task', () => {
  // A review of 2026-12-06: startWorkflow's CONFLICT reads a root's orchestratedAt, and the rules
  // left it to the document, so an import of one that is not a time broke every read of it.
  it('refuses an orchestratedAt that is not a date-time', () => {
    const task: ExportedNode = {
      label: 'Task',
      id: 't1',
      properties: {
        title: 'Root',
        priority: 'MEDIUM',
        status: 'PENDING',
        attempts: { $int: 0 },
        maxAttempts: { $int: 3 },
        orchestrated: true,
        version: { $int: 1 },
        createdAt: at,
        updatedAt: at,
      },
    };
    expect(() =>
      checkNodeRules([{ ...task, properties: { ...task.properties, orchestratedAt: at } }]),
    ).not.toThrow();
    const bad = { ...task, properties: { ...task.properties, orchestratedAt: 'yesterday' } };
    expect(refusal(() => checkNodeRules([bad])).message).toContain(
      'nodes[0].properties.orchestratedAt must be',
    );
  });
});

import neo4j from 'neo4j-driver';
import { describe, expect, it } from 'vitest';
import { encodeValue, toDriverValue } from '../graph/organisation-values.js';
import { createNodesQuery, relationshipsQuery } from '../graph/organisation.repository.js';
import { BadInputError } from '../src/domain/errors.js';
import {
  canonicalDocument,
  MAX_NODES,
  parseDateTimeText,
  parseOrganisationDocument,
  pathText,
} from '../src/domain/organisation-export.js';

const valid = () => ({
  format: 'agent-platform/organisation',
  version: 1,
  nodes: [
    { label: 'Agent', id: 'a1', properties: { name: 'Ada', version: { $int: 3 } } },
    { label: 'Task', id: 't1', properties: { title: 'T', tags: ['x', 'y'] } },
  ],
  relationships: [{ type: 'ASSIGNED_TO', from: 't1', to: 'a1', properties: { score: 0.5 } }],
});

/** The message of the BadInputError that parsing `doc` throws. */
function problem(doc: unknown): string {
  try {
    parseOrganisationDocument(doc);
  } catch (err) {
    expect(err).toBeInstanceOf(BadInputError);
    return (err as Error).message;
  }
  throw new Error('expected the document to be refused');
}

describe('parseDateTimeText', () => {
  it('reads UTC text with nanoseconds', () => {
    expect(parseDateTimeText('2024-05-01T10:20:30.123456789Z')).toEqual({
      year: 2024,
      month: 5,
      day: 1,
      hour: 10,
      minute: 20,
      second: 30,
      nanosecond: 123456789,
      offsetSeconds: 0,
      zoneId: null,
    });
  });

  it('pads short fractions to nanoseconds, as Neo4j trims them', () => {
    expect(parseDateTimeText('2024-01-01T10:00:00.5Z')?.nanosecond).toBe(500_000_000);
    expect(parseDateTimeText('2024-01-01T10:00:00.000000001Z')?.nanosecond).toBe(1);
  });

  it('reads offsets, seconds in offsets and named zones', () => {
    expect(parseDateTimeText('2024-01-01T10:00:00-05:30')?.offsetSeconds).toBe(-19_800);
    expect(parseDateTimeText('1900-01-01T00:00:00+00:09:21')?.offsetSeconds).toBe(561);
    expect(parseDateTimeText('2024-01-01T10:00:30.123+01:00[Europe/Paris]')).toMatchObject({
      offsetSeconds: 3600,
      zoneId: 'Europe/Paris',
      nanosecond: 123_000_000,
    });
  });

  it('reads years beyond 9999 and before year 0', () => {
    expect(parseDateTimeText('+12345-01-01T00:00:00Z')?.year).toBe(12345);
    expect(parseDateTimeText('-0044-03-15T12:00:00Z')?.year).toBe(-44);
  });

  it('accepts minutes without seconds', () => {
    expect(parseDateTimeText('2024-01-01T10:00Z')).toMatchObject({ minute: 0, second: 0 });
  });

  it.each([
    '2024-01-01T10:00:00',
    '2024-01-01 10:00:00Z',
    '2024-02-30T10:00:00Z',
    '2023-02-29T10:00:00Z',
    '2024-13-01T10:00:00Z',
    '2024-01-01T24:00:00Z',
    '2024-01-01T10:00:00.1234567890Z',
    '2024-01-01T10:00:00+19:00',
    '2024-01-01',
    'yesterday',
  ])('refuses %s', (text) => {
    expect(parseDateTimeText(text)).toBeNull();
  });

  it('knows leap years', () => {
    expect(parseDateTimeText('2024-02-29T00:00:00Z')).not.toBeNull();
    expect(parseDateTimeText('2000-02-29T00:00:00Z')).not.toBeNull();
    expect(parseDateTimeText('1900-02-29T00:00:00Z')).toBeNull();
  });
});

describe('values between Neo4j and the document', () => {
  it('encodes by valueType()', () => {
    expect(encodeValue('x', 'STRING NOT NULL', 'a')).toBe('a');
    expect(encodeValue('x', 'BOOLEAN NOT NULL', false)).toBe(false);
    expect(encodeValue('x', 'INTEGER NOT NULL', 7)).toEqual({ $int: 7 });
    expect(encodeValue('x', 'FLOAT NOT NULL', 7)).toBe(7);
    expect(encodeValue('x', 'FLOAT NOT NULL', Number.NaN)).toEqual({ $float: 'NaN' });
    expect(encodeValue('x', 'FLOAT NOT NULL', -Infinity)).toEqual({ $float: '-Infinity' });
    expect(encodeValue('x', 'ZONED DATETIME NOT NULL', '2024-01-01T00:00:00Z')).toEqual({
      $datetime: '2024-01-01T00:00:00Z',
    });
    expect(encodeValue('x', 'LIST<INTEGER NOT NULL> NOT NULL', [1, 2])).toEqual([
      { $int: 1 },
      { $int: 2 },
    ]);
    expect(encodeValue('x', 'LIST<NOTHING> NOT NULL', [])).toEqual([]);
  });

  it('refuses types the format cannot carry, naming the property', () => {
    expect(() => encodeValue('Task "t1".due', 'DATE NOT NULL', {})).toThrow(
      'Task "t1".due has type DATE NOT NULL',
    );
  });

  it('decodes integers as driver Integers and date-times as driver DateTimes', () => {
    const int = toDriverValue({ $int: 42 });
    expect(neo4j.isInt(int as never)).toBe(true);
    expect(String(int)).toBe('42');
    const dt = toDriverValue({ $datetime: '2024-01-01T10:00:30.123+01:00[Europe/Paris]' });
    expect(neo4j.isDateTime(dt as never)).toBe(true);
    expect(dt).toMatchObject({
      year: 2024,
      second: 30,
      nanosecond: 123_000_000,
      timeZoneOffsetSeconds: 3600,
      timeZoneId: 'Europe/Paris',
    });
    expect(toDriverValue({ $float: '-Infinity' })).toBe(-Infinity);
    expect((toDriverValue([{ $int: 1 }, { $int: 2 }]) as unknown[]).map(String)).toEqual([
      '1',
      '2',
    ]);
    expect(toDriverValue(1.5)).toBe(1.5);
  });
});

describe('parseOrganisationDocument', () => {
  it('accepts a valid document', () => {
    expect(parseOrganisationDocument(valid())).toEqual(valid());
  });

  it('names the position and the allowed labels for a bad label', () => {
    const doc = valid();
    doc.nodes[1]!.label = 'Foo';
    expect(problem(doc)).toContain(
      'nodes[1].label must be one of Agent, Capability, Task, Conversation, Message, Knowledge, Run, LLMCall, Entity, AgentVersion, but got "Foo"',
    );
  });

  it('names the expected format', () => {
    expect(problem({ ...valid(), format: 'neo4j-dump' })).toContain(
      'format must be "agent-platform/organisation", but got "neo4j-dump"',
    );
  });

  it('says what is missing', () => {
    const { nodes: _nodes, ...rest } = valid();
    expect(problem(rest)).toContain('nodes is missing');
    expect(problem('not an object')).toContain('the document must be an object');
  });

  it('refuses relationship types that could change the Cypher', () => {
    const doc = valid();
    doc.relationships[0]!.type = 'X]->() DETACH DELETE n//';
    expect(problem(doc)).toContain('relationships[0].type must match /^[A-Z][A-Z0-9_]*$/');
    doc.relationships[0]!.type = 'lower';
    expect(problem(doc)).toContain('relationships[0].type');
  });

  it('refuses integers that are not encoded as {"$int": <integer>}', () => {
    for (const bad of [{ $int: '3' }, { $int: 1.5 }, { $int: 3, extra: 1 }, { $integer: 3 }]) {
      const doc = valid();
      (doc.nodes[0]!.properties as Record<string, unknown>).version = bad;
      expect(problem(doc)).toContain('nodes[0].properties.version must be a string');
    }
  });

  it('refuses date-times that Neo4j could not have printed', () => {
    const doc = valid();
    (doc.nodes[0]!.properties as Record<string, unknown>).createdAt = {
      $datetime: '2024-01-01T10:00:00',
    };
    expect(problem(doc)).toContain('nodes[0].properties.createdAt');
  });

  it('refuses mixed lists, nested lists, null and objects', () => {
    const set = (v: unknown) => {
      const doc = valid();
      (doc.nodes[1]!.properties as Record<string, unknown>).tags = v;
      return problem(doc);
    };
    expect(set(['a', 1])).toContain('nodes[1].properties.tags must be a list of one kind');
    expect(set([['a']])).toContain('nodes[1].properties.tags [0] must be');
    expect(set(null)).toContain('but got null');
    expect(set({ a: 1 })).toContain('but got {"a":1}');
  });

  it('refuses id and tenantId among properties', () => {
    const doc = valid();
    (doc.nodes[0]!.properties as Record<string, unknown>).tenantId = 'other';
    expect(problem(doc)).toContain('nodes[0].properties.tenantId is not allowed');
  });

  it('refuses a node id used twice', () => {
    const doc = valid();
    doc.nodes[1]!.id = 'a1';
    expect(problem(doc)).toContain('nodes[1].id must be unique, but "a1" is also nodes[0].id');
  });

  it('refuses unknown keys', () => {
    expect(problem({ ...valid(), tenantId: 'x' })).toContain('has unknown key(s) "tenantId"');
  });

  it('refuses more than the node limit before validating anything else', () => {
    const doc = { ...valid(), nodes: new Array(MAX_NODES + 1).fill(null) };
    try {
      parseOrganisationDocument(doc);
      expect.unreachable();
    } catch (err) {
      expect((err as BadInputError).code).toBe('BAD_USER_INPUT');
      expect((err as BadInputError).details).toMatchObject({ limit: 'nodes' });
      expect((err as Error).message).toContain('at most 50000 items per document, but got 50001');
    }
  });
});

describe('canonicalDocument', () => {
  it('orders nodes by label then id, relationships by type, from, to and properties', () => {
    const doc = canonicalDocument(
      [
        { label: 'Task', id: 'b', properties: { z: 1, a: 2 } },
        { label: 'Agent', id: 'c', properties: {} },
        { label: 'Task', id: 'a', properties: {} },
      ],
      [
        { type: 'X', from: 'a', to: 'b', properties: { w: 2 } },
        { type: 'X', from: 'a', to: 'b', properties: { w: 1 } },
        { type: 'A', from: 'z', to: 'b', properties: {} },
        { type: 'X', from: 'a', to: 'a', properties: {} },
      ],
    );
    expect(doc.nodes.map((n) => `${n.label}:${n.id}`)).toEqual(['Agent:c', 'Task:a', 'Task:b']);
    expect(Object.keys(doc.nodes[2]!.properties)).toEqual(['a', 'z']);
    expect(
      doc.relationships.map((r) => `${r.type}${r.from}${r.to}${JSON.stringify(r.properties)}`),
    ).toEqual(['Azb{}', 'Xaa{}', 'Xab{"w":1}', 'Xab{"w":2}']);
  });
});

describe('query builders', () => {
  it('splice only allow-listed labels and well-formed types', () => {
    expect(() => createNodesQuery('t', 'ApiKey', [])).toThrow('Not an organisation label');
    expect(() => relationshipsQuery('t', 'X]->() DELETE n//', 'Agent', 'Task', [], false)).toThrow(
      'Not a valid relationship type',
    );
    expect(relationshipsQuery('t', 'OF', 'Run', 'Task', [], true).cypher).toContain(
      'MERGE (a)-[r:OF]->(b)',
    );
  });

  it('formats paths as code would', () => {
    expect(pathText(['nodes', 3, 'properties', 'a b'])).toBe('nodes[3].properties["a b"]');
  });
});

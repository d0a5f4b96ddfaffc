import { describe, expect, it } from 'vitest';
import { MemoryHitKind } from '../src/domain/memory-search.js';
import {
  contextPackages,
  MEMORY_LINE,
  memoryLine,
  PACKAGE_SIZE,
} from '../src/memory/retrieval/agent-memory.js';

const fact = (id: string, text: string) => ({ kind: MemoryHitKind.FACT, id, text });

describe('context packages', () => {
  const memories = [
    { kind: MemoryHitKind.ENTITY, id: 'e1', text: 'Acme (Organisation): makes electric bikes' },
    fact('f1', 'Acme revenue is 12M euros'),
    fact('f2', 'Tulip bulbs bloom in spring'),
  ];

  it('gives each step the memories that share the most words with it, and none that share none', () => {
    const packages = contextPackages(
      [
        {
          key: 'research',
          title: 'Research Acme revenue',
          instructions: 'Find the revenue in euros',
        },
        { key: 'garden', title: 'Plant tulip bulbs', instructions: 'In spring' },
        { key: 'other', title: 'Write', instructions: 'A poem' },
      ],
      memories,
    );
    expect(packages.get('research')).toEqual([
      { label: 'Fact', id: 'f1' },
      { label: 'Entity', id: 'e1' },
    ]);
    expect(packages.get('garden')).toEqual([{ label: 'Fact', id: 'f2' }]);
    expect(packages.get('other')).toEqual([]);
  });

  it(`holds at most ${PACKAGE_SIZE} memories, the first ones of equal overlap`, () => {
    const many = Array.from({ length: 9 }, (_, i) => fact(`f${i}`, `Acme fact ${i}`));
    const packages = contextPackages([{ key: 's', title: 'Acme', instructions: '' }], many);
    expect(packages.get('s')!.map((r) => r.id)).toEqual(['f0', 'f1', 'f2', 'f3', 'f4']);
  });
});

describe('memory lines', () => {
  it('names the kind, folds whitespace and cuts long text', () => {
    expect(memoryLine(fact('f', 'Acme\n revenue  is 12M'))).toBe('(fact) Acme revenue is 12M');
    const long = memoryLine(fact('f', 'x'.repeat(1000)));
    expect(long).toBe(`(fact) ${'x'.repeat(MEMORY_LINE - 1)}…`);
  });
});

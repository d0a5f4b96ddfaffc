import { describe, expect, it } from 'vitest';
import {
  fulltextSearchQuery,
  luceneQuery,
  tenantLuceneQuery,
  withoutStopWords,
} from '../graph/fulltext.js';

describe('luceneQuery', () => {
  it('leaves plain words as they are', () => {
    expect(luceneQuery('deploy kubernetes cluster')).toBe('deploy kubernetes cluster');
  });

  it('escapes every Lucene special character', () => {
    const specials = '+ - && || ! ( ) { } [ ] ^ " ~ * ? : \\ /';
    expect(luceneQuery(`a ${specials}`)).toBe(
      'a \\+ \\- \\&\\& \\|\\| \\! \\( \\) \\{ \\} \\[ \\] \\^ \\" \\~ \\* \\? \\: \\\\ \\/',
    );
  });

  it('lower-cases operator words so they are searched as words', () => {
    expect(luceneQuery('a AND OR NOT b TO c')).toBe('a and or not b to c');
    expect(luceneQuery('ANDROID ORACLE')).toBe('ANDROID ORACLE');
  });

  it('escapes Cypher-looking and unbalanced input literally', () => {
    expect(luceneQuery('"); MATCH (n) DETACH DELETE n //')).toBe(
      '\\"\\); MATCH \\(n\\) DETACH DELETE n \\/\\/',
    );
    expect(luceneQuery('say "hello')).toBe('say \\"hello');
  });

  it('collapses whitespace and trims', () => {
    expect(luceneQuery('  a \n\t b  ')).toBe('a b');
  });

  it('gives "" for text with no letters or digits', () => {
    for (const text of ['', '   ', '*', '\\', '"', '&& || !', '()'])
      expect(luceneQuery(text)).toBe('');
  });

  it('keeps letters of any script', () => {
    expect(luceneQuery('Grüße 東京')).toBe('Grüße 東京');
  });
});

describe('fulltextSearchQuery', () => {
  it('passes the escaped text, index and tenant as parameters', () => {
    const q = fulltextSearchQuery('knowledge_text', 't1', 'a (b', 5);
    expect(q.cypher).toContain('db.index.fulltext.queryNodes($index, $query)');
    expect(q.cypher).toContain('node.tenantId = $tenantId');
    expect(q.params).toMatchObject({
      index: 'knowledge_text',
      query: '+tenantId:"t1" +(content:(a \\(b) tagText:(a \\(b))',
      tenantId: 't1',
    });
    expect(Number(q.params?.limit)).toBe(5);
  });

  it('puts the tenant inside the Lucene query, so the index reads only that tenant', () => {
    expect(tenantLuceneQuery('task_text', 'acme', 'deploy')).toBe(
      '+tenantId:"acme" +(title:(deploy) description:(deploy) result:(deploy))',
    );
    expect(tenantLuceneQuery('message_text', 'a"b\\c', 'x AND y')).toBe(
      '+tenantId:"a\\"b\\\\c" +(content:(x AND y))',
    );
  });

  it('refuses an index that is not a full-text index', () => {
    expect(() => fulltextSearchQuery('nope' as never, 't1', 'a', 5)).toThrow(
      'not a full-text index',
    );
  });
});

describe('withoutStopWords', () => {
  it("drops a question's small words, which the memory index keeps and every document has", () => {
    expect(withoutStopWords('What is the revenue of Acme?')).toBe('revenue Acme?');
    expect(withoutStopWords('Who was the CEO of Kite Meadow Farms in 2025')).toBe(
      'CEO Kite Meadow Farms 2025',
    );
  });

  it('keeps text made of nothing but stop words, so there is still something to search for', () => {
    expect(withoutStopWords('to be or not to be')).toBe('to be or not to be');
    // Stop words and punctuation only: what is left has no word, so the words stay.
    for (const text of ['the "', 'is \\', 'of ?!']) {
      expect(luceneQuery(withoutStopWords(text)), text).not.toBe('');
    }
  });
});

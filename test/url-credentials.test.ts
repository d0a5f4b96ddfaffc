import { describe, expect, it } from 'vitest';
import { withoutCredentials } from '../src/config/url-credentials.js';

// One helper for every URL a message or a log line shows (a model's, an embedder's, an OTLP
// endpoint's, a refused variable's): the CLI once printed LLM_BASE_URL with its password.
describe('a URL without credentials', () => {
  it('shows the userinfo as ***@, scheme or not', () => {
    expect(withoutCredentials('https://user:s3cret@host:4318/v1')).toBe('https://***@host:4318/v1');
    expect(withoutCredentials('user:s3cret@host:4318')).toBe('***@host:4318');
    expect(withoutCredentials('http://127.0.0.1:11434/v1')).toBe('http://127.0.0.1:11434/v1');
  });

  it('keeps nothing of a password that holds a ? or a #', () => {
    expect(withoutCredentials('http://user:pa?ss@host/v1')).toBe('http://***@host/v1');
    expect(withoutCredentials('http://user:pa#ss@host/v1')).toBe('http://***@host/v1');
    // A review of 2026-12-06: a / in a password (base64 keeps them) kept what came before it.
    expect(withoutCredentials('http://user:pa/ss@host/v1')).toBe('http://***@host/v1');
    expect(withoutCredentials('user:a/b+c@host:4318')).toBe('***@host:4318');
  });

  it('hides a query or fragment, where a key may ride', () => {
    expect(withoutCredentials('https://host/v1?api_key=s3cret')).toBe('https://host/v1?***');
    expect(withoutCredentials('https://u:p@host/v1#s3cret')).toBe('https://***@host/v1#***');
  });
});

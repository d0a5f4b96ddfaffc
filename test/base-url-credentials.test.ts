import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/config.js';

/*
 * LLM_BASE_URL=http://user:s3cret@host/v1 passed the checks, but fetch refuses a URL with
 * credentials: every model call failed, and each failure logged the URL with its password
 * ("Request cannot be constructed from a URL that includes credentials: http://user:s3cret@…").
 */
describe('a base URL carrying user:password@', () => {
  const refusal = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) return err.message;
      throw err;
    }
    return 'accepted';
  };

  it('is refused at start for the model, naming the variable and where the key goes', () => {
    const said = refusal({
      LLM_PROVIDER: 'compatible',
      LLM_BASE_URL: 'http://user:s3cret@127.0.0.1:11434/v1',
    });
    expect(said).toMatch(/LLM_BASE_URL .*user:password@.*LLM_API_KEY/);
    expect(said).not.toContain('s3cret');
    expect(said).not.toContain('\n');
  });

  it('is refused at start for the embedder too', () => {
    const said = refusal({
      EMBEDDINGS_PROVIDER: 'openai',
      EMBEDDINGS_BASE_URL: 'https://:s3cret@embed.example.com/v1',
      EMBEDDINGS_MODEL: 'nomic-embed-text',
    });
    expect(said).toMatch(/EMBEDDINGS_BASE_URL .*user:password@.*EMBEDDINGS_API_KEY/);
    expect(said).not.toContain('s3cret');
  });

  it('leaves plain URLs as they were', () => {
    const config = loadConfig({ LLM_BASE_URL: 'http://127.0.0.1:11434/v1' });
    expect(config.llm.provider).toBe('compatible');
  });
});

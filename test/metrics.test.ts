import { describe, expect, it } from 'vitest';
import { statementName } from '../graph/statement-name.js';
import { loadConfig, ConfigError } from '../src/config/config.js';
import { isTransient } from '../src/engine/executor.js';
import { errorClass } from '../src/llm/call-metrics.js';
import { addSource, bounded, readySources, registry } from '../src/metrics/metrics.js';

describe('metric labels', () => {
  it('keeps the first values a client chooses and calls the rest other', () => {
    const label = bounded(2);
    expect(label('ListAgents')).toBe('ListAgents');
    expect(label('weird name {x="y"}')).toBe('weird_name__x__y__');
    expect(label('Third')).toBe('other');
    expect(label('ListAgents')).toBe('ListAgents');
    expect(label(null)).toBe('other');
    expect(bounded(5)('x'.repeat(200))).toHaveLength(64);
  });

  it('classes model failures the way an operator acts on them', () => {
    expect(errorClass(Object.assign(new Error('slow down'), { status: 429 }))).toBe('rate_limit');
    expect(errorClass(Object.assign(new Error('boom'), { status: 503 }))).toBe('server');
    expect(errorClass(Object.assign(new Error('bad request'), { status: 400 }))).toBe('client');
    expect(errorClass(Object.assign(new Error('x'), { name: 'TimeoutError' }))).toBe('timeout');
    expect(errorClass(Object.assign(new Error('x'), { name: 'AbortError' }))).toBe('aborted');
    const refused = Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    expect(errorClass(refused)).toBe('connection');
    expect(errorClass(new Error('Failed to parse JSON'))).toBe('bad_answer');
  });

  // Shapes the loopback cannot produce, as the OpenAI client wraps them (Connection error. <-
  // fetch failed <- undici's or Node's error): model-error-classes.test.ts has the real ones.
  it.each([
    ['an unknown host', 'connection', { code: 'ENOTFOUND', syscall: 'getaddrinfo' }, false],
    ['a DNS server that did not answer', 'connection', { code: 'EAI_AGAIN' }, true],
    ['an unreachable network', 'connection', { code: 'ENETUNREACH' }, false],
    ['a certificate not trusted', 'connection', { code: 'SELF_SIGNED_CERT_IN_CHAIN' }, false],
    ['a connect timeout', 'timeout', { code: 'UND_ERR_CONNECT_TIMEOUT' }, true],
    ['headers that never came', 'timeout', { code: 'UND_ERR_HEADERS_TIMEOUT' }, true],
  ])('classes %s behind the client as %s', (_, expected, fields, transient) => {
    const cause = Object.assign(new Error('x'), fields);
    const fetchFailed = new TypeError('fetch failed', { cause });
    // OpenAI's APIConnectionError: its own code and status are undefined.
    const err = Object.assign(new Error('Connection error.', { cause: fetchFailed }), {
      code: undefined,
      status: undefined,
    });
    expect(errorClass(err)).toBe(expected);
    expect(isTransient(err)).toBe(transient);
  });

  it('does not take a bad answer that says "timed out" for a timeout', () => {
    const err = new Error('Failed to parse. Text: "The job timed out at 3pm."');
    expect(errorClass(err)).toBe('bad_answer');
  });
});

describe('statement names', () => {
  it('name a statement by the graph/ function that sent it, once per text', () => {
    // Outside graph/ there is no repository function to name.
    expect(statementName('RETURN 1 AS from_a_test')).toBe('unnamed');
    expect(statementName('RETURN 1 AS from_a_test')).toBe('unnamed');
  });
});

describe('METRICS_* settings', () => {
  it('serve /metrics by default, and say what to fix in a bad value', () => {
    expect(loadConfig({}).metrics).toEqual({
      enabled: true,
      token: null,
      port: null,
      host: '127.0.0.1',
    });
    const set = loadConfig({ METRICS_PORT: '9464', METRICS_TOKEN: 'a'.repeat(16), METRICS: 'off' });
    expect(set.metrics).toMatchObject({ enabled: false, port: 9464, token: 'a'.repeat(16) });
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN.*16 characters/);
    expect(() => loadConfig({ METRICS_PORT: 'x' })).toThrow(/METRICS_PORT/);
  });
});

describe('a scrape while Neo4j is down', () => {
  it('still serves every metric, the ready-steps gauge keeping its last count', async () => {
    let down = false;
    const remove = addSource(readySources, async () => {
      if (down) throw new Error('The graph database is not reachable right now');
      return 7;
    });
    try {
      expect(await registry.metrics()).toMatch(/^agent_platform_engine_ready_steps 7$/m);
      down = true;
      // The outage is when the other metrics matter most (503s, retries): no 500 for them all.
      const text = await registry.metrics();
      expect(text).toMatch(/^agent_platform_engine_ready_steps 7$/m);
      expect(text).toMatch(/^process_cpu_seconds_total /m);
    } finally {
      remove();
    }
  });
});

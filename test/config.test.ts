import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultMaxConnections } from '../graph/graph.js';
import { ConfigError, loadConfig } from '../src/config/config.js';

describe('loadConfig', () => {
  it('runs on embedded defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.port).toBe(4000);
    expect(config.neo4j.uri).toBeUndefined();
    expect(config.neo4j.database).toBe('neo4j');
    expect(config.localNeo4j).toEqual({
      boltPort: 7687,
      httpPort: 7474,
      heap: '512m',
      pageCache: '128m',
    });
    expect(config.dataDir).toBe(path.resolve('.data'));
    expect(config.backlog).toEqual({ maxQueuedSteps: 10_000, maxPendingEpisodes: 20_000 });
  });

  it('reads the backlog caps of a tenant', () => {
    const config = loadConfig({ TENANT_MAX_QUEUED_STEPS: '50', TENANT_MAX_PENDING_EPISODES: '7' });
    expect(config.backlog).toEqual({ maxQueuedSteps: 50, maxPendingEpisodes: 7 });
  });

  it('names the variable, the contract and the value in one line', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/^Invalid environment: PORT .*"eighty"$/);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(
      /PORT must be a port number from 0 to 65535/,
    );
    // Port 0 lets the system choose: the API says where it listens, but the local Neo4j's
    // launcher must know its ports to wait for them (it waited forever).
    for (const name of ['LOCAL_NEO4J_BOLT_PORT', 'LOCAL_NEO4J_HTTP_PORT'])
      expect(() => loadConfig({ [name]: '0' })).toThrow(
        `${name} must be a port number from 1 to 65535`,
      );
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => loadConfig({ LOCAL_NEO4J_HEAP: 'lots' })).toThrow(
      /LOCAL_NEO4J_HEAP must be a size/,
    );
    expect(() => loadConfig({ NEO4J_URI: 'http://x' })).toThrow(/NEO4J_URI must be a neo4j:\/\//);
    expect(() => loadConfig({ NEO4J_MAX_CONNECTIONS: '0' })).toThrow(
      /NEO4J_MAX_CONNECTIONS must be a whole number of at least 1/,
    );
    expect(() => loadConfig({ NEO4J_MAX_CONNECTIONS: 'many' })).toThrow(
      /NEO4J_MAX_CONNECTIONS must be a whole number of at least 1, but got "many"/,
    );
    expect(() => loadConfig({ WORKER_NICE: '20' })).toThrow(/WORKER_NICE .*19.*"20"$/);
    expect(() => loadConfig({ WORKER_NICE: '-5' })).toThrow(/WORKER_NICE .*0.*"-5"$/);
    expect(loadConfig({}).engine.workerNice).toBe(10);
  });

  it('takes the connections per process from NEO4J_MAX_CONNECTIONS, else a default by cores', () => {
    expect(loadConfig({ NEO4J_MAX_CONNECTIONS: '40' }).neo4j.maxConnections).toBe(40);
    expect(loadConfig({}).neo4j.maxConnections).toBeUndefined();
    expect(defaultMaxConnections()).toBeGreaterThanOrEqual(8);
  });

  it('gives a tenant half the pool NEO4J_MAX_CONNECTIONS sets, unless set itself', () => {
    const base = { NEO4J_URI: 'bolt://db:7687', NEO4J_PASSWORD: 'password1' };
    const turns = (env: Record<string, string>) =>
      loadConfig({ ...base, ...env }).limits.tenantMaxConcurrentRequests;
    expect(turns({})).toBe(Math.floor(defaultMaxConnections() / 2));
    expect(turns({ NEO4J_MAX_CONNECTIONS: '100' })).toBe(50);
    expect(turns({ NEO4J_MAX_CONNECTIONS: '1' })).toBe(1);
    expect(turns({ NEO4J_MAX_CONNECTIONS: '100', TENANT_MAX_CONCURRENT_REQUESTS: '7' })).toBe(7);
  });

  it('requires a password with a remote Neo4j', () => {
    expect(() => loadConfig({ NEO4J_URI: 'neo4j+s://db.example.com' })).toThrow(
      /NEO4J_PASSWORD is required when NEO4J_URI is set/,
    );
    const config = loadConfig({
      NEO4J_URI: 'neo4j+s://db.example.com',
      NEO4J_PASSWORD: 'secret-pw',
    });
    expect(config.neo4j).toMatchObject({ uri: 'neo4j+s://db.example.com', password: 'secret-pw' });
  });

  // A walk of 2026-12-08: NEO4J_DATABASE=nope with the local Neo4j started and used `neo4j`,
  // the value silently ignored; NEO4J_USER=alice blamed the password.
  it('refuses a user or database the local Neo4j does not have, naming NEO4J_URI', () => {
    for (const [name, value] of [
      ['NEO4J_DATABASE', 'nope'],
      ['NEO4J_USER', 'alice'],
    ] as const) {
      expect(() => loadConfig({ [name]: value })).toThrow(
        `Invalid environment: ${name} other than neo4j needs NEO4J_URI (the local Neo4j has one user and one database, both neo4j), but got "${value}"`,
      );
      const remote = { NEO4J_URI: 'bolt://db:7687', NEO4J_PASSWORD: 'a-password' };
      expect(() => loadConfig({ ...remote, [name]: value })).not.toThrow();
    }
    expect(() => loadConfig({ NEO4J_DATABASE: 'neo4j', NEO4J_USER: 'neo4j' })).not.toThrow();
  });

  it('dispatches steps through Redis by default with REDIS_URL, and only with it', () => {
    expect(loadConfig({}).engine).toMatchObject({ dispatch: 'neo4j', queuePollMs: 1_000 });
    const redis = { REDIS_URL: 'redis://127.0.0.1:6379' };
    expect(loadConfig(redis).engine.dispatch).toBe('redis');
    expect(loadConfig({ ...redis, ENGINE_DISPATCH: 'neo4j' }).engine.dispatch).toBe('neo4j');
    expect(() => loadConfig({ ENGINE_DISPATCH: 'redis' })).toThrow(
      /^Invalid environment: ENGINE_DISPATCH=redis needs REDIS_URL/,
    );
    expect(() => loadConfig({ ENGINE_DISPATCH: 'kafka' })).toThrow(
      /ENGINE_DISPATCH must be redis or neo4j/,
    );
  });

  // A walk of 2026-12-06: "127.0.0.1:4318" (no scheme) or a mistyped protocol started, logged
  // "Sending traces to 127.0.0.1:4318/v1/traces", and the SDK sent them to its default instead.
  it('refuses an OTLP endpoint that is not an http(s) URL, and an unknown OTLP protocol', () => {
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: '127.0.0.1:4318' })).toThrow(
      /^Invalid environment: OTEL_EXPORTER_OTLP_ENDPOINT must be an http:\/\/ or https:\/\/ URL.*"127\.0\.0\.1:4318"$/,
    );
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector/v1' })).toThrow(
      /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http:\/\/ or https:\/\/ URL/,
    );
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318' };
    expect(() => loadConfig({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/xml' })).toThrow(
      /OTEL_EXPORTER_OTLP_PROTOCOL must be http\/protobuf, http\/json or grpc.*"http\/xml"$/,
    );
    for (const endpoint of ['http://localhost:4318', 'https://cloud.langfuse.com/api/public/otel'])
      expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint })).not.toThrow();
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).not.toThrow();
  });

  it('does not check the OTLP variables when tracing is off', () => {
    const bad = { OTEL_EXPORTER_OTLP_ENDPOINT: '127.0.0.1:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'x' };
    expect(() => loadConfig({ ...bad, OTEL_SDK_DISABLED: 'true' })).not.toThrow();
    expect(() => loadConfig({ ...bad, OTEL_TRACES_EXPORTER: 'none' })).not.toThrow();
    expect(() =>
      loadConfig({ ...bad, OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: ' ' }),
    ).not.toThrow();
  });

  it('never repeats the credentials an endpoint it refuses carries', () => {
    for (const [endpoint, shown] of [
      ['https//user:s3cret@collector:4318', '"https//***@collector:4318"'],
      ['ftp://user:s3cret@collector:4318', '"ftp://***@collector:4318"'],
      ['user:s3cret@collector:4318', '"***@collector:4318"'],
    ] as const) {
      const refused = () => loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint });
      expect(refused).toThrow(ConfigError);
      expect(refused).toThrow(new RegExp(`but got ${shown.replace(/[/*]/g, '\\$&')}$`));
      expect(refused).not.toThrow(/s3cret/);
    }
  });

  // A walk set LOG_LEVEL to a pasted file: the "one line" naming it was 5 KB.
  it('cuts a long refused value to its first 100 characters and says how long it was', () => {
    const value = 'x'.repeat(5_000);
    const refused = () => loadConfig({ LOG_LEVEL: value });
    expect(refused).toThrow(`, but got "${'x'.repeat(100)}"… (5000 characters)`);
    expect(() => loadConfig({ LOG_LEVEL: 'x'.repeat(100) })).toThrow(/x"$/);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', NEO4J_URI: '' }).port).toBe(4000);
  });

  it('refuses a value of only spaces rather than reading it as 0 (a budget of nothing)', () => {
    expect(() => loadConfig({ BUDGET_TENANT_USD: '  ' })).toThrow(
      /^Invalid environment: BUDGET_TENANT_USD must not be only spaces \(unset it for the default\), but got "  "$/,
    );
    expect(() => loadConfig({ BUDGET_TASK_TOKENS: ' ' })).toThrow(/BUDGET_TASK_TOKENS must not/);
    expect(() => loadConfig({ LLM_MAX_RETRIES: '\t' })).toThrow(/LLM_MAX_RETRIES must not/);
    expect(() => loadConfig({ OPENAI_API_KEY: ' ' })).toThrow(
      /^Invalid environment: OPENAI_API_KEY must not be only spaces .*, but got a value$/,
    );
    // Variables the platform does not read are none of its business.
    expect(loadConfig({ SOME_OTHER_TOOL: ' ' }).port).toBe(4000);
  });
});

describe('millisecond variables', () => {
  // Above 2^31 - 1 ms a Node.js timer fires at once: a step or request "timed out" at its start.
  const timers: Array<[name: string, min: number]> = [
    ['ENGINE_LEASE_MS', 100],
    ['ENGINE_POLL_MS', 10],
    ['ENGINE_QUEUE_POLL_MS', 10],
    ['ENGINE_STEP_TIMEOUT_MS', 100],
    ['ECHO_DELAY_MS', 0],
    ['REQUEST_TIMEOUT_MS', 1],
    ['REQUEST_HEADERS_TIMEOUT_MS', 1],
    ['REQUEST_BODY_TIMEOUT_MS', 1],
    ['MCP_CALL_TIMEOUT_MS', 100],
    ['MCP_CONNECT_TIMEOUT_MS', 100],
    ['EMBEDDINGS_TIMEOUT_MS', 1000],
    ['LLM_TIMEOUT_MS', 1000],
  ];

  it.each(timers)('refuses a %s no timer holds, naming the limit', (name, min) => {
    const contract = `must be a whole number of milliseconds from ${min} to 2147483647`;
    expect(() => loadConfig({ [name]: '3000000000' })).toThrow(
      `Invalid environment: ${name} ${contract}, but got "3000000000"`,
    );
    expect(() => loadConfig({ [name]: String(min - 1) })).toThrow(`${name} ${contract}`);
    expect(() => loadConfig({ [name]: '2147483647' })).not.toThrow();
  });

  it('keeps the tighter limits some timers have, in the same words', () => {
    for (const [name, min, max] of [
      ['EVENT_RELAY_AFTER_MS', 100, 3_600_000],
      ['EVOLUTION_INTERVAL_MS', 100, 86_400_000],
      ['LLM_OFFLINE_DELAY_MS', 0, 600_000],
      ['MEMORY_INGESTION_LEASE_MS', 1000, 1_000_000_000],
    ] as const) {
      expect(() => loadConfig({ [name]: String(max + 1) })).toThrow(
        `Invalid environment: ${name} must be a whole number of milliseconds from ${min} to ${max}, but got "${max + 1}"`,
      );
      expect(() => loadConfig({ [name]: String(max) })).not.toThrow();
    }
  });
});

describe('the words of a refusal', () => {
  // A walk of 2026-12-08: ENGINE_CONCURRENCY=abc said "Invalid input: expected number, received
  // NaN", 99999999999999999999 "expected int to be <=9007199254740991" (the limit is 256), and
  // LOG_LEVEL=loud 'Invalid option: expected one of "fatal"|…': a parser's words, not the contract.
  it.each([
    ['ENGINE_CONCURRENCY', ['abc', '0', '1.5', '257', '99999999999999999999'], 'from 1 to 256'],
    ['ENGINE_AGENT_LIMIT', ['abc', '-1', '300'], 'from 1 to 256'],
    ['ENGINE_GLOBAL_LIMIT', ['abc', '0', '99999999999999999999'], 'of at least 1'],
    ['EVENT_REPLAY_EVENTS', ['abc', '-1', '1000001'], 'from 0 to 1000000'],
    ['WORKER_NICE', ['abc', '-1', '20', 'Infinity'], 'from 0 to 19'],
    ['TENANT_MAX_QUEUED_STEPS', ['abc', '0', '1.5', '10000001'], 'from 1 to 10000000'],
    ['TENANT_MAX_PENDING_EPISODES', ['abc', '0', '10000001'], 'from 1 to 10000000'],
  ])('says %s takes a whole number %s', (name, values, range) => {
    for (const value of values) {
      expect(() => loadConfig({ [name]: value })).toThrow(
        `Invalid environment: ${name} must be a whole number ${range}, but got "${value}"`,
      );
    }
  });

  it.each([
    ['ENGINE', 'must be on or off'],
    ['EVENT_RELAY', 'must be on or off'],
    ['INSTANCE_CHECK', 'must be on or off'],
    ['NODE_ENV', 'must be development, test or production'],
    ['LOG_LEVEL', 'must be one of fatal, error, warn, info, debug, trace, silent'],
  ])('says what %s takes', (name, contract) => {
    expect(() => loadConfig({ [name]: 'loud' })).toThrow(
      `Invalid environment: ${name} ${contract}, but got "loud"`,
    );
  });

  // METRICS_TOKEN=short-token was repeated in the log line; WS_MAX_SUBSCRIPTIONS_PER_KEY=abc
  // was hidden as "a value", as if it were a key.
  it('hides the values of secrets only', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'sh0rt-t0ken' })).toThrow(
      /^Invalid environment: METRICS_TOKEN must be at least 16 characters, but got a value$/,
    );
    expect(() => loadConfig({ WS_MAX_SUBSCRIPTIONS_PER_KEY: 'abc' })).toThrow(
      /WS_MAX_SUBSCRIPTIONS_PER_KEY must be a whole number greater than 0, but got "abc"$/,
    );
    for (const name of ['ADMIN_API_KEY', 'CURSOR_SECRET', 'NEO4J_PASSWORD', 'MCP_SECRET_KEY']) {
      expect(() => loadConfig({ [name]: 'sh0rt' })).toThrow(/, but got a value$/);
    }
  });
});

describe('WORKER_TENANTS and WORKER_ID', () => {
  it('reads the tenants a worker serves, trimmed, and no list when unset', () => {
    expect(loadConfig({}).engine.workerTenants).toBeNull();
    expect(loadConfig({ WORKER_TENANTS: 'default, acme ' }).engine.workerTenants).toEqual([
      'default',
      'acme',
    ]);
  });

  // "acme, beta" served "acme" and " beta" (no such tenant); "acme," also served "": a worker
  // that silently ran nobody's steps.
  it('refuses an empty entry rather than serving a tenant of that name', () => {
    for (const value of ['acme,', ',', 'acme,,beta', 'acme, ,beta']) {
      expect(() => loadConfig({ WORKER_TENANTS: value })).toThrow(
        `Invalid environment: WORKER_TENANTS must be tenant ids separated by commas, with none empty, but got "${value}"`,
      );
    }
  });

  it('takes WORKER_ID as the name on runs, and refuses one of only spaces', () => {
    expect(loadConfig({ WORKER_ID: 'w-1' }).engine.workerId).toBe('w-1');
    expect(loadConfig({}).engine.workerId).toBeUndefined();
    expect(() => loadConfig({ WORKER_ID: '  ' })).toThrow(
      /^Invalid environment: WORKER_ID must not/,
    );
  });
});

describe('CORS_ORIGINS', () => {
  it('is no origin when unset, and exact origins separated by commas when set', () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(
      loadConfig({ CORS_ORIGINS: 'https://studio.apollographql.com, http://localhost:3000' })
        .corsOrigins,
    ).toEqual(['https://studio.apollographql.com', 'http://localhost:3000']);
  });

  it('refuses anything but http(s) origins, and *, naming the variable', () => {
    expect(() => loadConfig({ CORS_ORIGINS: '*' })).toThrow(
      /^Invalid environment: CORS_ORIGINS must name each origin; \* \(any site\) is not accepted/,
    );
    for (const value of [
      'https://app.example/',
      'https://app.example/path',
      'ftp://app.example',
      'app.example',
      'https://app.example,,http://b.example',
      'https://user:pw@app.example',
      'https://app.example:443',
    ]) {
      expect(() => loadConfig({ CORS_ORIGINS: value }), value).toThrow(
        /^Invalid environment: CORS_ORIGINS must be origins such as https:\/\/app\.example\.com/,
      );
    }
  });
});

import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { LIMITS } from '../src/domain/validate.js';
import { HeaderSource, ToolServerTransport, isDestructive } from '../src/domain/tool-server.js';
import { OfflineChatModel } from '../src/llm/offline-model.js';
import { purposeMarker } from '../src/llm/routing.js';
import { argsProblem, mcpErrorText, withoutStack } from '../src/mcp-client/args.js';
import { DEFAULT_MCP_CLIENT } from '../src/mcp-client/config.js';
import { connectProblem } from '../src/mcp-client/pool.js';
import { redactArgs } from '../src/mcp-client/record.js';
import { resolveHeaders, seal, sealHeaders, unseal } from '../src/mcp-client/secrets.js';

// Issue 16: the rules of outside MCP tools that need no server: annotations' defaults, sealed
// headers, redaction, the allow-lists, configuration, and the offline model's choice of tools.

describe('MCP tool annotations', () => {
  it('take a tool as destructive unless it says it is read-only or harmless (the spec defaults)', () => {
    expect(isDestructive(undefined)).toBe(true);
    expect(isDestructive({})).toBe(true);
    expect(isDestructive({ readOnlyHint: true })).toBe(false);
    expect(isDestructive({ destructiveHint: false })).toBe(false);
    expect(isDestructive({ readOnlyHint: false, destructiveHint: true })).toBe(true);
  });
});

describe('sealed header values', () => {
  const key = randomBytes(32);
  it('open with their key only, and not once changed', () => {
    const sealed = seal(key, { Authorization: 'Bearer abc' });
    expect(sealed).not.toContain('abc');
    expect(unseal(key, sealed)).toEqual({ Authorization: 'Bearer abc' });
    expect(() => unseal(randomBytes(32), sealed)).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from('{"Authorization":"Bearer evil"}').toString('base64url');
    expect(() => unseal(key, parts.join('.'))).toThrow();
    expect(seal(key, { a: 1 })).not.toBe(seal(key, { a: 1 })); // a fresh IV each time
  });

  it('resolve from the seal or the environment, and say which one is missing', () => {
    const server = {
      headers: [
        { name: 'Authorization', source: HeaderSource.ENCRYPTED, envVar: null },
        { name: 'X-Team', source: HeaderSource.ENV, envVar: 'MCP_HEADER_TEAM' },
      ],
      headersSealed: seal(key, { Authorization: 'Bearer abc' }),
    };
    expect(resolveHeaders(server, { secretKey: key }, { MCP_HEADER_TEAM: 'red' })).toEqual({
      Authorization: 'Bearer abc',
      'X-Team': 'red',
    });
    expect(() => resolveHeaders(server, { secretKey: key }, {})).toThrow(/MCP_HEADER_TEAM/);
    expect(() => resolveHeaders(server, { secretKey: null }, { MCP_HEADER_TEAM: 'red' })).toThrow(
      /MCP_SECRET_KEY/,
    );
  });
});

describe('header values HTTP cannot send', () => {
  // A value with a line break inside (or a character past U+00FF) was stored, and fetch's
  // refusal quoted the value in lastError, which every key that reads toolServers sees.
  const key = randomBytes(32);
  const token = 'Bearer s3cret-token';
  it('are refused when given, naming the header and not the value', () => {
    for (const value of [`${token}\r\nX-Injected: 1`, `${token}\0`, `${token} ✓`]) {
      expect(() => sealHeaders([{ name: 'Authorization', value }], key)).toThrow(
        /^header Authorization: its value must be one line of visible characters/,
      );
      try {
        sealHeaders([{ name: 'Authorization', value }], key);
      } catch (err) {
        expect((err as Error).message).not.toContain('s3cret');
      }
    }
    // Around the value, spaces and line breaks are trimmed by fetch as it sends it: kept.
    const around = sealHeaders([{ name: 'Authorization', value: ` ${token}\n` }], key);
    expect(around.headers).toHaveLength(1);
  });

  it('fail when read from the environment, naming the variable and not the value', () => {
    const server = {
      headers: [{ name: 'X-Team', source: HeaderSource.ENV, envVar: 'MCP_HEADER_TEAM' }],
      headersSealed: null,
    };
    const read = () =>
      resolveHeaders(server, { secretKey: key }, { MCP_HEADER_TEAM: `${token}\nX: 1` });
    expect(read).toThrow(/^header X-Team: the variable MCP_HEADER_TEAM holds a value HTTP cannot/);
    expect(read).not.toThrow(/s3cret/);
  });

  // Stored before such values were refused when given: the message read "the variable null".
  it('fail when sealed before they were refused, naming the header and not the value', () => {
    const server = {
      headers: [{ name: 'Authorization', source: HeaderSource.ENCRYPTED, envVar: null }],
      headersSealed: seal(key, { Authorization: `${token}\r\nX-Injected: 1` }),
    };
    const read = () => resolveHeaders(server, { secretKey: key }, {});
    expect(read).toThrow(/^header Authorization: its stored value is one HTTP cannot send \(/);
    expect(read).toThrow(/set the header again/);
    expect(read).not.toThrow(/null|s3cret/);
  });
});

describe('headers that would break every request', () => {
  // Walk: Content-Length or Transfer-Encoding was stored and every listing and call then failed
  // with a bare "fetch failed"; a repeated name was sent joined ("a, b"); a 100 kB value was
  // stored and answered with an empty 431.
  const key = randomBytes(32);
  const refused = (headers: { name: string; value: string }[]) => {
    try {
      sealHeaders(headers, key);
    } catch (err) {
      return (err as Error).message;
    }
    return null;
  };
  it('are refused, naming the header and what to do, never the value', () => {
    for (const name of ['Content-Length', 'transfer-encoding', 'Host', 'Connection', 'Expect']) {
      const why = refused([{ name, value: 's3cret' }]);
      expect(why, name).toMatch(new RegExp(`^header ${name}: .*set by the HTTP client`));
      expect(why).not.toContain('s3cret');
    }
    expect(
      refused([
        { name: 'X-Team', value: 's3cret-a' },
        { name: 'x-team', value: 's3cret-b' },
      ]),
    ).toMatch(/^header x-team: given twice/);
    const big = refused([{ name: 'X-Big', value: 's3cret'.repeat(2_000) }]);
    expect(big).toMatch(/^header X-Big: its value must be at most 8192 characters, but got 12000/);
    expect(big).not.toContain('s3cret');
    expect(refused([{ name: 'X-Fine', value: 'x'.repeat(8_192) }])).toBeNull();
  });
});

describe('recorded tool arguments', () => {
  it('hide values under secret-looking names at any depth, and are clipped', () => {
    const args = JSON.parse(
      redactArgs({ q: 'tin', apiKey: 'sk-1', nested: { password: 'p', list: [{ token: 't' }] } }),
    );
    expect(args).toEqual({
      q: 'tin',
      apiKey: '[redacted]',
      nested: { password: '[redacted]', list: [{ token: '[redacted]' }] },
    });
    expect(redactArgs({ text: 'x'.repeat(10_000) }).length).toBeLessThanOrEqual(4_001);
  });
});

describe('outside tool arguments', () => {
  const schema = {
    type: 'object',
    properties: { text: { type: 'string' }, n: { type: 'integer', minimum: 1 } },
    required: ['text'],
    additionalProperties: false,
  };
  it('say which argument does not fit and what the schema wants', () => {
    expect(argsProblem(schema, { text: 'a', n: 2 })).toBeNull();
    expect(argsProblem(schema, { text: 42 })).toBe(
      'text: Instance type "number" is invalid. Expected "string".',
    );
    expect(argsProblem(schema, { text: 'a', n: 0 })).toBe('n: 0 is less than 1.');
    expect(argsProblem(schema, {})).toMatch(/^\(the object\): .*required property "text"/);
    expect(argsProblem(schema, { text: 'a', x: 1 })).toBe('x: the tool takes no such argument');
  });

  it('lose the stack frames a library put into an error message, and nothing else', () => {
    const err = new Error('Received tool input did not match expected schema');
    expect(withoutStack(`failed: ${err.stack}\n Please fix it.`)).toBe(
      'failed: Error: Received tool input did not match expected schema\n Please fix it.',
    );
    expect(withoutStack('needs\n  at least one word')).toBe('needs\n  at least one word');
  });

  it("give an SDK server's JSON-RPC error its code once, without the class name", () => {
    expect(
      mcpErrorText('Error calling tool x: McpError: MCP error -32602: MCP error -32602: bad'),
    ).toBe('Error calling tool x: MCP error -32602: bad');
    expect(mcpErrorText('McpError: MCP error -32001: Request timed out')).toBe(
      'MCP error -32001: Request timed out',
    );
    // Another code after the first is another error's: kept.
    expect(mcpErrorText('MCP error -32603: MCP error -32602: bad')).toBe(
      'MCP error -32603: MCP error -32602: bad',
    );
  });
});

describe('which servers a deployment may reach', () => {
  const cfg = {
    stdioAllow: [{ command: 'node', args: ['server.js', '--stdio'] }],
    httpAllowHosts: null,
    privateHosts: true,
  };
  const stdio = (command: string, args: string[]) =>
    connectProblem({ transport: ToolServerTransport.STDIO, url: null, command, args }, cfg);
  const http = (url: string, hosts: string[] | null = null, privateHosts = true) =>
    connectProblem(
      { transport: ToolServerTransport.HTTP, url, command: null, args: [] },
      { ...cfg, httpAllowHosts: hosts, privateHosts },
    );

  it('runs stdio servers only as the allow-list has them, args and all', () => {
    expect(stdio('node', ['server.js', '--stdio'])).toBeNull();
    expect(stdio('node', ['server.js'])).toMatch(/MCP_STDIO_ALLOW/);
    expect(stdio('node', ['server.js', '--stdio', '-e', 'evil()'])).toMatch(/MCP_STDIO_ALLOW/);
    expect(stdio('/bin/sh', ['-c', 'node server.js --stdio'])).toMatch(/MCP_STDIO_ALLOW/);
  });

  it('takes http(s) URLs only, on the allowed hosts when a list is set', () => {
    expect(http('https://mcp.example.com/mcp')).toBeNull();
    expect(http('file:///etc/passwd')).toMatch(/http:\/\/ or https:\/\//);
    expect(http('not a url')).toMatch(/http:\/\/ or https:\/\//);
    expect(http('http://169.254.169.254/latest', ['mcp.example.com'])).toMatch(
      /MCP_HTTP_ALLOW_HOSTS/,
    );
    expect(http('https://MCP.example.com/mcp', ['mcp.example.com'])).toBeNull();
  });

  it('takes a url of up to LIMITS.url characters', () => {
    const at = (n: number) => `https://mcp.example.com/${'a'.repeat(n - 24)}`;
    expect(at(LIMITS.url)).toHaveLength(LIMITS.url);
    expect(http(at(LIMITS.url))).toBeNull();
    expect(http(at(LIMITS.url + 1))).toBe(
      `url must be at most ${LIMITS.url} characters, but got ${LIMITS.url + 1}`,
    );
  });

  it('keeps off loopback, private and link-local addresses where told to (production)', () => {
    for (const url of [
      'http://127.0.0.1:7474/db',
      'http://localhost:6379',
      'http://api.localhost/mcp',
      'http://10.1.2.3/mcp',
      'http://172.16.5.4/mcp',
      'http://192.168.0.10/mcp',
      'http://169.254.169.254/latest/meta-data',
      'http://0.0.0.0:4000/graphql',
      'http://[::1]:4000/mcp',
      'http://[fd00::1]/mcp',
      'http://[fe80::1]/mcp',
      'http://[::ffff:127.0.0.1]/mcp',
    ]) {
      expect(http(url, null, false), url).toMatch(
        /loopback, private or link-local.*MCP_HTTP_ALLOW_HOSTS.*MCP_HTTP_ALLOW_PRIVATE/,
      );
      expect(http(url, null, true), url).toBeNull();
    }
    expect(http('https://mcp.example.com/mcp', null, false)).toBeNull();
    expect(http('http://93.184.216.34/mcp', null, false)).toBeNull();
    expect(http('http://172.32.0.1/mcp', null, false)).toBeNull();
    // A host the deployment lists is its own choice.
    expect(http('http://127.0.0.1:9000/mcp', ['127.0.0.1'], false)).toBeNull();
  });
});

describe('MCP client configuration', () => {
  it('has safe defaults and reads its variables', () => {
    expect(loadConfig({}).mcpClient).toEqual(DEFAULT_MCP_CLIENT);
    const key = randomBytes(32).toString('base64');
    const cfg = loadConfig({
      MCP_STDIO_ALLOW: '[{"command":"npx","args":["-y","server"]}]',
      MCP_HTTP_ALLOW_HOSTS: 'a.example.com, B.example.com',
      MCP_SECRET_KEY: key,
      MCP_CALL_TIMEOUT_MS: '5000',
    }).mcpClient;
    expect(cfg.stdioAllow).toEqual([{ command: 'npx', args: ['-y', 'server'] }]);
    expect(cfg.httpAllowHosts).toEqual(['a.example.com', 'b.example.com']);
    expect(cfg.secretKey?.toString('base64')).toBe(key);
    expect(cfg.callTimeoutMs).toBe(5000);
    // Private addresses: reachable in development, not in production unless said so.
    expect(cfg.privateHosts).toBe(true);
    const production = {
      NODE_ENV: 'production',
      ADMIN_API_KEY: 'a-production-admin-key-of-32-characters',
    };
    expect(loadConfig(production).mcpClient.privateHosts).toBe(false);
    expect(
      loadConfig({ ...production, MCP_HTTP_ALLOW_PRIVATE: 'true' }).mcpClient.privateHosts,
    ).toBe(true);
  });

  it('refuses malformed values with one line naming the variable', () => {
    for (const [name, value, says] of [
      ['MCP_STDIO_ALLOW', 'npx server', /JSON array/],
      ['MCP_SECRET_KEY', 'short', /32 random bytes/],
      ['MCP_CALL_TIMEOUT_MS', '10', /from 100 to 2147483647/],
    ] as const) {
      let err: unknown;
      try {
        loadConfig({ [name]: value });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain(name);
      expect((err as Error).message).toMatch(says);
    }
  });
});

describe('the offline model with MCP tools', () => {
  const noop = (name: string) =>
    tool(async () => 'ok', { name, description: name, schema: z.object({ text: z.string() }) });

  it('calls the outside tools the step names, and no others', async () => {
    const bound = new OfflineChatModel().bindTools([
      noop('search_knowledge'),
      noop('fixture__echo'),
      noop('fixture__add_note'),
    ]);
    const reply = await bound.invoke([
      new SystemMessage(`You operate. ${purposeMarker('execution')}`),
      new HumanMessage('Step: Check the tin price with fixture__echo'),
    ]);
    expect(reply.tool_calls?.map((c) => c.name)).toEqual(['search_knowledge', 'fixture__echo']);
    expect(typeof reply.tool_calls?.[1]?.args.text).toBe('string');
  });
});

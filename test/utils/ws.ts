import { createClient, type Client } from 'graphql-ws';
import { print, type ExecutionResult } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import WebSocket from 'ws';
import type { PubSub } from '../../subscriptions/pubsub.js';

/** The pub/sub of a server, as the helper needs it to see a subscription registered. */
type Registrations = Pick<PubSub, 'subscriptionsMade'>;

// Registrations on one server take turns, so the count that grows is the current one's.
const turns = new WeakMap<Registrations, Promise<void>>();

export interface Subscription<T> {
  /** The next event, or a rejection after `timeoutMs`. */
  waitForNext(timeoutMs?: number): Promise<ExecutionResult<T>>;
  /**
   * Silence against a positive control, not a time window: runs `control`, an action that must
   * announce something on this same subscription, and resolves with the events that arrived
   * before the one `isControl` picks. One subscription's events arrive in publish order, so an
   * empty answer proves that nothing was announced between the last event read and the control.
   * Rejects when the control's event does not arrive within `timeoutMs`.
   */
  heardBefore(
    control: () => Promise<unknown>,
    isControl: (event: ExecutionResult<T>) => boolean,
    timeoutMs?: number,
  ): Promise<ExecutionResult<T>[]>;
  close(): Promise<void>;
}

/**
 * A graphql-ws client for tests: one socket per subscription, closed by close(). It connects
 * with the server's admin key unless `key` names another (or null for none).
 */
export async function subscribe<T, V>(
  server: { wsUrl: string; adminKey: string; pubsub: Registrations },
  doc: TypedDocumentNode<T, V>,
  variables?: V,
  key: string | null = server.adminKey,
): Promise<Subscription<T>> {
  const previous = turns.get(server.pubsub);
  let release!: () => void;
  turns.set(server.pubsub, new Promise<void>((r) => (release = r)));
  await previous;
  const madeBefore = server.pubsub.subscriptionsMade();
  let answered = false;
  const client: Client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: key ? { authorization: `Bearer ${key}` } : {},
    retryAttempts: 0,
    on: { closed: () => (answered = true) },
  });
  const queue: ExecutionResult<T>[] = [];
  const waiters: ((r: ExecutionResult<T>) => void)[] = [];
  client.subscribe<T>(
    { query: print(doc), variables: variables as Record<string, unknown> | undefined },
    {
      next: (value) => {
        answered = true;
        const waiter = waiters.shift();
        if (waiter) waiter(value as ExecutionResult<T>);
        else queue.push(value as ExecutionResult<T>);
      },
      error: (err) => {
        answered = true;
        // graphql-ws reports an operation's errors as an array, a server close as a CloseEvent.
        const close = err as { code?: number; reason?: string; message?: string };
        const message =
          close.code !== undefined
            ? `closed ${close.code}: ${close.reason}`
            : String(close.message ?? err);
        const value = { errors: Array.isArray(err) ? err : [{ message }] };
        const waiter = waiters.shift();
        if (waiter) waiter(value as never);
        else queue.push(value as never);
      },
      complete: () => {},
    },
  );
  try {
    // Ready once the server has made the pub/sub subscription (issue 9: a fixed 150 ms sleep
    // let events be published before it existed), or has answered instead (an error, a close).
    await until(
      () => answered || server.pubsub.subscriptionsMade() > madeBefore,
      `the server to register ${print(doc).slice(0, 80)}`,
    );
  } finally {
    release();
  }

  return {
    waitForNext(timeoutMs = 5_000) {
      const ready = queue.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(done), 1);
          reject(new Error(`no subscription event within ${timeoutMs} ms`));
        }, timeoutMs);
        const done = (r: ExecutionResult<T>) => {
          clearTimeout(timer);
          resolve(r);
        };
        waiters.push(done);
      });
    },
    async heardBefore(this: Subscription<T>, control, isControl, timeoutMs = 5_000) {
      await control();
      const before: ExecutionResult<T>[] = [];
      for (;;) {
        const event = await this.waitForNext(timeoutMs).catch(() => {
          throw new Error(
            `the control event did not arrive within ${timeoutMs} ms; heard before it: ${JSON.stringify(before)}`,
          );
        });
        if (isControl(event)) return before;
        before.push(event);
      }
    },
    async close() {
      await client.dispose();
    },
  };
}

/** Polls `condition` until it holds; rejects naming `what` after `timeoutMs`. */
async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

import { createClient, type Client } from 'graphql-ws';
import type { TypedDocumentString } from './gql/graphql';
import { adviceFor } from './advice';

/**
 * The console's only way to the platform: GraphQL over HTTP for queries and mutations, and
 * graphql-ws for subscriptions, both at /graphql on the origin that served the console and both
 * with the signed-in API key. Documents are typed by graphql-codegen (codegen.ts).
 */

/** An error from the API, in words: what went wrong, and what to do about it. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly advice: string,
  ) {
    super(message);
  }
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export interface Api {
  request<TResult, TVars>(
    doc: TypedDocumentString<TResult, TVars>,
    variables?: TVars,
  ): Promise<TResult>;
  /** Calls onData for every event until the returned function is called. */
  subscribe<TResult, TVars>(
    doc: TypedDocumentString<TResult, TVars>,
    variables: TVars,
    onData: (data: TResult) => void,
    onError?: (error: ApiError) => void,
  ): () => void;
  /**
   * POST /documents (multipart), with upload progress from 0 to 1: the document's id, and
   * whether the upload made it (false: the tenant had sent the same text before).
   */
  upload(
    file: File,
    title: string,
    onProgress: (share: number) => void,
  ): Promise<{ id: string; created: boolean }>;
  close(): void;
}

export interface ApiEvents {
  /** The refusal of a key that stopped working (revoked, expired). */
  onUnauthenticated(error: ApiError): void;
  /**
   * The live connection dropped (false; the client keeps reconnecting) or is up again (true).
   * Events published while it was down are lost to this page: what it shows may be stale.
   */
  onLive(up: boolean): void;
}

/** Reconnection waits: doubling from 1 s, at most 10 s, with jitter (not graphql-ws's 2^n s). */
const RETRY_CAP_MS = 10_000;

export function createApi(apiKey: string, events: ApiEvents): Api {
  const authorization = `Bearer ${apiKey}`;
  let ws: Client | null = null;
  // A closed Api's socket (signed out) says nothing more about the live connection.
  let closed = false;
  const live = (up: boolean) => !closed && events.onLive(up);
  const socket = () =>
    (ws ??= createClient({
      url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
      connectionParams: { authorization },
      // Once opened, kept open and reconnected whatever screen is shown: a lazy socket stops
      // reconnecting silently when the last subscription ends, and the banner would stay.
      lazy: false,
      // Its errors reach the subscriptions themselves (a refused key signs out there).
      onNonLazyError: () => {},
      // An API that restarts comes back: the console waits for it as long as it is open.
      retryAttempts: Infinity,
      retryWait: (retries) =>
        new Promise((resolve) =>
          setTimeout(resolve, Math.min(1000 * 2 ** retries, RETRY_CAP_MS) + Math.random() * 500),
        ),
      // A refused key (4403) stays refused: asking again only hides why.
      shouldRetry: (e) => (e as { code?: number } | null)?.code !== 4403,
      on: {
        connected: () => live(true),
        // 1000: closed on purpose (signed out); 4403: the key was refused, which signs out.
        closed: (e) => {
          const code = (e as { code?: number } | null)?.code;
          if (code === 4403 && !closed) {
            const message = 'The API refused this key: it has been revoked or has expired';
            events.onUnauthenticated(
              new ApiError(message, 'UNAUTHENTICATED', adviceFor('UNAUTHENTICATED')),
            );
          } else if (code !== 1000) live(false);
        },
      },
    }));

  const fail = (message: string, code: string): never => {
    const error = new ApiError(message, code, adviceFor(code, message));
    if (code === 'UNAUTHENTICATED') events.onUnauthenticated(error);
    throw error;
  };

  return {
    async request(doc, variables) {
      // A header carries printable ASCII only (fetch throws otherwise): no key has anything else.
      if (!/^[\x21-\x7e]+$/.test(apiKey))
        return fail('This API key is not valid', 'UNAUTHENTICATED');
      let res: Response;
      try {
        res = await fetch('/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization },
          body: JSON.stringify({ query: doc.toString(), variables }),
        });
      } catch {
        return fail('The API did not answer.', 'NETWORK');
      }
      const body = (await res.json().catch(() => ({}))) as GraphQLResponse<never>;
      const first = body.errors?.[0];
      if (first) return fail(first.message, first.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
      if (!body.data) return fail(`The API answered ${res.status} without data.`, 'NETWORK');
      return body.data;
    },
    subscribe(doc, variables, onData, onError) {
      return socket().subscribe<never>(
        { query: doc.toString(), variables: variables as Record<string, unknown> },
        {
          next: (result) => {
            const first = result.errors?.[0];
            if (first) {
              const code = String(first.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
              onError?.(new ApiError(first.message, code, adviceFor(code, first.message)));
            } else if (result.data) onData(result.data);
          },
          error: (err) => {
            const message = err instanceof Error ? err.message : 'The live connection closed.';
            onError?.(new ApiError(message, 'NETWORK', adviceFor('NETWORK')));
          },
          complete: () => {},
        },
      );
    },
    upload(file, title, onProgress) {
      // XMLHttpRequest, not fetch: only it reports upload progress.
      return new Promise((resolve, reject) => {
        const form = new FormData();
        form.append('title', title);
        form.append('file', file);
        const xhr = new XMLHttpRequest();
        xhr.open('POST', '/documents');
        xhr.setRequestHeader('authorization', authorization);
        xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
        xhr.onerror = () =>
          reject(new ApiError('The upload failed.', 'NETWORK', adviceFor('NETWORK')));
        xhr.onload = () => {
          let body: GraphQLResponse<never> & { document?: { id: string }; created?: boolean } = {};
          try {
            body = JSON.parse(xhr.responseText || '{}') as typeof body;
          } catch {
            // A proxy's HTML error page: the status says enough.
          }
          const first = body.errors?.[0];
          if (xhr.status >= 400 || first) {
            const code = first?.extensions?.code ?? 'BAD_USER_INPUT';
            const message = first?.message ?? xhr.statusText;
            return reject(new ApiError(message, code, adviceFor(code, message)));
          }
          onProgress(1);
          resolve({ id: body.document?.id ?? '', created: body.created !== false });
        };
        xhr.send(form);
      });
    },
    close() {
      closed = true;
      // A socket whose connection was refused rejects its disposal: nothing is left to close.
      void Promise.resolve(ws?.dispose()).catch(() => {});
      ws = null;
    },
  };
}

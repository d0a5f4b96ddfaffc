/**
 * The cap on what is read from an outside server (MCP_MAX_MESSAGE_BYTES): MCP servers' replies
 * and A2A agents' cards and replies alike.
 */

/** A reply past the cap: the same request would get it again, so it is not worth retrying. */
export class TooLargeError extends Error {}

/** What a request whose reply is past `max` bytes fails with. */
export function tooLargeMessage(
  max: number,
  what = "the MCP server's reply",
  fix = 'ask the tool for less, or raise the limit',
): string {
  return `${what} is larger than ${max} bytes (MCP_MAX_MESSAGE_BYTES): ${fix}`;
}

/**
 * `res` with its body cut off at `max` bytes: reading it fails with `tooLarge()` once past
 * the cap, and the connection is dropped then, so no more than `max` is ever held. A declared
 * Content-Length past the cap fails at once. `onOver` hears of it just before the body fails.
 */
export async function capBody(
  res: Response,
  max: number,
  tooLarge: () => Error,
  onOver?: () => void,
): Promise<Response> {
  if (Number(res.headers.get('content-length') ?? 0) > max) {
    await res.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!res.body) return res;
  let seen = 0;
  const counted = res.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen <= max) return controller.enqueue(chunk);
        onOver?.();
        controller.error(tooLarge());
      },
    }),
  );
  return new Response(counted, {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}

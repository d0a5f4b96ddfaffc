/**
 * An event as text, for the buses and the outbox: JSON that keeps Dates (domain objects carry
 * them) as Dates on the other side.
 */
export function encodeEvent(topic: string, payload: unknown): string {
  return JSON.stringify({ topic, payload }, function (this: Record<string, unknown>, key, value) {
    const original = this[key];
    return original instanceof Date ? { $date: original.toISOString() } : value;
  });
}

export function decodeEvent(json: string): { topic: string; payload: unknown } {
  return JSON.parse(json, (_key, value: unknown) => {
    if (value && typeof value === 'object' && '$date' in value) {
      return new Date((value as { $date: string }).$date);
    }
    return value;
  }) as { topic: string; payload: unknown };
}

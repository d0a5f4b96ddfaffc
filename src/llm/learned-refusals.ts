type Log = { warn(obj: object, msg: string): void };

/**
 * What models (by `model at server`) were found to refuse, for the life of the process: a
 * server without tool calling, one that refuses `stream_options`. Learned from the refusal of a
 * call, logged once with `message`, and used by every later call of the same model and server.
 */
export class LearnedRefusals {
  private readonly refused = new Set<string>();

  constructor(private readonly message: (where: string) => string) {}

  has(where: string): boolean {
    return this.refused.has(where);
  }

  /** Remembers (and logs once) that `where` refused. */
  learn(where: string, err: unknown, log?: Log): void {
    if (this.refused.has(where)) return;
    this.refused.add(where);
    log?.warn({ model: where, err: (err as Error)?.message }, this.message(where));
  }

  /** Forgets what was learned (tests). */
  forget(): void {
    this.refused.clear();
  }
}

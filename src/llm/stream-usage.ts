import { LearnedRefusals } from './learned-refusals.js';

/**
 * Models (by `model at server`) found to refuse `stream_options`, the field by which a streamed
 * call asks for its usage (older Azure API versions, some local servers): they stream without
 * it, and their calls record the usage the server reports, which is then none.
 */
export const streamsWithoutUsage = new LearnedRefusals(
  (where) =>
    `${where} refused stream_options; its streamed answers are asked for without usage, and their calls record the tokens it reports (none)`,
);

/** A 400 (or 422) naming `stream_options`: a server that does not take the field. */
export function refusesStreamOptions(err: unknown): boolean {
  const e = err as { status?: number; message?: string };
  return [400, 422].includes(e?.status ?? 0) && /stream_options/i.test(e.message ?? '');
}

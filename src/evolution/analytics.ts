import {
  performanceRows,
  type PerformanceSubject,
  type RunAggregate,
} from '../../graph/analytics.repository.js';
import { usageTrendRows, type UsageTrendGroup } from '../../graph/llm-usage-trend.repository.js';
import { AppError, BadInputError, NotFoundError } from '../domain/errors.js';
import type { UnitOfWork } from '../services/unit-of-work.js';

/*
 * Performance analytics (issue 12): how an agent, or the work that needs a capability, fares
 * over a window: success rate and mean score from the runs' effective evaluations, cost per
 * success, latency percentiles, and the same per time bucket (the trend).
 */

/** Bucket sizes of a trend. Calendar months vary in length, so they are not offered. */
export type PerformanceBucket = 'HOUR' | 'DAY' | 'WEEK';

const HOUR_MS = 3_600_000;
export const BUCKET_MS: Readonly<Record<PerformanceBucket, number>> = Object.freeze({
  HOUR: HOUR_MS,
  DAY: 24 * HOUR_MS,
  WEEK: 7 * 24 * HOUR_MS,
});

/** A trend has at most this many buckets (a year of days). */
export const MAX_BUCKETS = 366;
/** The window when none is given: the 7 days before now. */
export const DEFAULT_WINDOW_MS = 7 * BUCKET_MS.DAY;

/** A validated window cut into buckets: [sinceMs, untilMs), `count` buckets of `bucketMs`. */
export interface PerformanceWindow {
  sinceMs: number;
  untilMs: number;
  bucket: PerformanceBucket;
  bucketMs: number;
  count: number;
}

/**
 * Checks a window and bucket: `until` defaults to now and `since` to 7 days before `until`;
 * `since` must be before `until`, and the window at most MAX_BUCKETS buckets long. Throws
 * BAD_USER_INPUT saying what to change.
 */
export function performanceWindow(
  window: { since?: Date | string | null; until?: Date | string | null } | null | undefined,
  bucket: PerformanceBucket,
  now: number = Date.now(),
): PerformanceWindow {
  const untilMs = window?.until != null ? new Date(window.until).getTime() : now;
  const sinceMs =
    window?.since != null ? new Date(window.since).getTime() : untilMs - DEFAULT_WINDOW_MS;
  const bucketMs = BUCKET_MS[bucket] as number | undefined;
  if (!bucketMs) {
    throw new BadInputError(`bucket must be one of HOUR, DAY, WEEK, but got ${String(bucket)}`);
  }
  if (!Number.isFinite(sinceMs) || !Number.isFinite(untilMs)) {
    throw new BadInputError('window.since and window.until must be date-times');
  }
  const iso = (ms: number) => new Date(ms).toISOString();
  if (sinceMs >= untilMs) {
    throw new BadInputError(
      `window.since must be before window.until, but got since ${iso(sinceMs)} and until ${iso(untilMs)}`,
      { since: iso(sinceMs), until: iso(untilMs) },
    );
  }
  const count = Math.ceil((untilMs - sinceMs) / bucketMs);
  if (count > MAX_BUCKETS) {
    throw new BadInputError(
      `the window holds at most ${MAX_BUCKETS} buckets, but ${iso(sinceMs)} to ${iso(untilMs)} in ${bucket} buckets makes ${count}: shorten the window or choose a larger bucket`,
      { buckets: count, max: MAX_BUCKETS },
    );
  }
  return { sinceMs, untilMs, bucket, bucketMs, count };
}

/** The figures of a set of runs. */
export interface PerformanceFigures {
  /** Runs that ended (SUCCEEDED or FAILED) in the period. */
  runs: number;
  /** Those with an effective evaluation: the denominator of successRate and meanScore. */
  evaluated: number;
  /** Evaluated runs whose effective verdict is PASS. */
  successes: number;
  /** successes / evaluated; null when no run is evaluated. */
  successRate: number | null;
  /** The mean effective score of the evaluated runs; null when none is. */
  meanScore: number | null;
  /** The model calls of every attempt that ended, counted or not (an interrupted one too). */
  costUsd: number;
  /** costUsd / successes; null when there is no success. */
  costPerSuccessUsd: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
}

export interface PerformancePoint extends PerformanceFigures {
  start: string;
  end: string;
}

export interface Performance extends PerformanceFigures {
  since: string;
  until: string;
  bucket: PerformanceBucket;
  /** One point per bucket, oldest first, empty ones included. */
  trend: PerformancePoint[];
}

/** Floats summed in the database carry binary noise (0.1 + 0.2); 10 decimals is plenty. */
const round = (v: number) => Math.round(v * 1e10) / 1e10;
const roundOrNull = (v: number | null) => (v === null ? null : round(v));

export function figuresOf(a: RunAggregate): PerformanceFigures {
  return {
    runs: a.runs,
    evaluated: a.evaluated,
    successes: a.successes,
    successRate: a.evaluated > 0 ? round(a.successes / a.evaluated) : null,
    meanScore: a.evaluated > 0 ? roundOrNull(a.meanScore) : null,
    costUsd: round(a.costUsd),
    costPerSuccessUsd: a.successes > 0 ? round(a.costUsd / a.successes) : null,
    latencyP50Ms: roundOrNull(a.latencyP50Ms),
    latencyP95Ms: roundOrNull(a.latencyP95Ms),
  };
}

const EMPTY: RunAggregate = {
  runs: 0,
  evaluated: 0,
  successes: 0,
  meanScore: null,
  costUsd: 0,
  latencyP50Ms: null,
  latencyP95Ms: null,
};

/** The answer from the database's aggregates: every bucket of the window, oldest first. */
export function performanceOf(
  w: PerformanceWindow,
  overall: RunAggregate,
  buckets: (RunAggregate & { bucket: number })[],
): Performance {
  const byIndex = new Map(buckets.map((b) => [b.bucket, b]));
  const trend = Array.from({ length: w.count }, (_, i) => {
    const start = w.sinceMs + i * w.bucketMs;
    const end = Math.min(start + w.bucketMs, w.untilMs);
    return {
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
      ...figuresOf(byIndex.get(i) ?? EMPTY),
    };
  });
  return {
    since: new Date(w.sinceMs).toISOString(),
    until: new Date(w.untilMs).toISOString(),
    bucket: w.bucket,
    ...figuresOf(overall),
    trend,
  };
}

function labelOfAgent(id: string | null, name: string | null): string {
  if (!id) return 'no agent (memory, judging)';
  return name ?? `a deleted agent (${id})`;
}

/** agentPerformance, capabilityPerformance and llmUsageTrend: one read statement each. */
export class AnalyticsService {
  constructor(private readonly uow: UnitOfWork) {}

  /** NOT_FOUND when the agent is not the tenant's. */
  agent(
    tenantId: string,
    agentId: string,
    window: Parameters<typeof performanceWindow>[0],
    bucket: PerformanceBucket,
  ): Promise<Performance> {
    return this.read(tenantId, 'agent', agentId, window, bucket, () => {
      throw new NotFoundError('Agent', agentId);
    });
  }

  /** NOT_FOUND when no agent or task of the tenant names the capability. */
  capability(
    tenantId: string,
    name: string,
    window: Parameters<typeof performanceWindow>[0],
    bucket: PerformanceBucket,
  ): Promise<Performance> {
    return this.read(tenantId, 'capability', name, window, bucket, () => {
      // The name is not echoed: it may be another tenant's (the tenancy matrix checks answers).
      throw new AppError(
        'NOT_FOUND',
        'no capability of that name in this tenant: give the name of a capability that one of its agents has or one of its tasks requires',
      );
    });
  }

  /** The tenant's model calls over a window, per bucket and model or agent (llmUsageTrend). */
  async usageTrend(
    tenantId: string,
    by: UsageTrendGroup,
    window: Parameters<typeof performanceWindow>[0],
    bucket: PerformanceBucket,
  ) {
    const w = performanceWindow(window, bucket);
    const rows = await this.uow.read((tx) => usageTrendRows(tx, { tenantId, by, ...w }));
    return {
      by,
      bucket,
      since: new Date(w.sinceMs),
      until: new Date(w.untilMs),
      points: rows.map(({ bucket: index, name, ...row }) => ({
        ...row,
        bucketStart: new Date(w.sinceMs + index * w.bucketMs),
        label: by === 'MODEL' ? (row.key ?? 'unknown model') : labelOfAgent(row.key, name),
      })),
    };
  }

  /**
   * Agent.performance for a page of agents: one statement for all of them; unknown ids (of
   * another tenant too) get an empty window, as the field is read from agents already found.
   */
  async agents(
    tenantId: string,
    agentIds: readonly string[],
    window: Parameters<typeof performanceWindow>[0],
    bucket: PerformanceBucket,
  ): Promise<Performance[]> {
    const w = performanceWindow(window, bucket);
    const rows = await this.uow.read((tx) =>
      performanceRows(tx, 'agent', { tenantId, keys: agentIds, ...w }),
    );
    return agentIds.map((id) => {
      const row = rows.get(id);
      return performanceOf(w, row?.overall ?? EMPTY, row?.buckets ?? []);
    });
  }

  private async read(
    tenantId: string,
    subject: PerformanceSubject,
    key: string,
    window: Parameters<typeof performanceWindow>[0],
    bucket: PerformanceBucket,
    notFound: () => never,
  ): Promise<Performance> {
    const w = performanceWindow(window, bucket);
    const rows = await this.uow.read((tx) =>
      performanceRows(tx, subject, { tenantId, keys: [key], ...w }),
    );
    const row = rows.get(key);
    if (!row?.found) notFound();
    return performanceOf(w, row.overall, row.buckets);
  }
}

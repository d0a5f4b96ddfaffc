import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, Float, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';

/** Bucket sizes of a performance trend (the same names as src/evolution/analytics.ts). */
export enum PerformanceBucket {
  HOUR = 'HOUR',
  DAY = 'DAY',
  WEEK = 'WEEK',
}
registerEnumType(PerformanceBucket, {
  name: 'PerformanceBucket',
  description:
    "The length of a trend's buckets: 1 hour, 1 day (24 h) or 1 week (7 days). A window holds at most 366 buckets.",
});

@InputType({
  description:
    'A time window [since, until): runs count by when they ended. Default: the 7 days before now.',
})
export class PerformanceWindowInput {
  @Field(() => DateTimeISOResolver, {
    nullable: true,
    description: 'Start, included; default: 7 days before `until`.',
  })
  since?: Date | null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'End, excluded; default: now.' })
  until?: Date | null;
}

@ObjectType({
  description:
    "Figures over the runs that ended (SUCCEEDED or FAILED) in a period. Every such run counts in runs, cost and latency; only runs with an evaluation count in successRate and meanScore (their denominator is `evaluated`), using each run's effective evaluation (a person's over the judge's over the objective one). The cost also holds the model calls of attempts that ended without an outcome (INTERRUPTED, RELEASED, ABANDONED, ABORTED, CANCELLED): they were paid for.",
})
export class PerformanceFigures {
  @Field(() => Int, { description: 'Runs that ended in the period, evaluated or not.' })
  runs!: number;

  @Field(() => Int, { description: 'Runs with an evaluation.' })
  evaluated!: number;

  @Field(() => Int, { description: 'Runs whose effective verdict is PASS.' })
  successes!: number;

  @Field(() => Float, {
    nullable: true,
    description: 'successes / evaluated; null when no run was evaluated.',
  })
  successRate!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Mean effective score (0..1) of the evaluated runs; null when none was.',
  })
  meanScore!: number | null;

  @Field(() => Float, {
    description:
      "USD of the model calls of every attempt that ended in the period: the counted runs' and those of attempts without an outcome (interrupted by a person's decision or a budget, released, abandoned, aborted, cancelled).",
  })
  costUsd!: number;

  @Field(() => Float, {
    nullable: true,
    description:
      'costUsd / successes (failed runs and attempts without an outcome cost too); null when there is no success.',
  })
  costPerSuccessUsd!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Median run latency in ms (interpolated); null without runs.',
  })
  latencyP50Ms!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: '95th percentile of run latency in ms (interpolated); null without runs.',
  })
  latencyP95Ms!: number | null;
}

@ObjectType({ description: 'One bucket of a trend: the figures of the runs that ended in it.' })
export class PerformancePoint extends PerformanceFigures {
  @Field(() => DateTimeISOResolver, { description: 'Start, included.' })
  start!: string;

  @Field(() => DateTimeISOResolver, {
    description: 'End, excluded: start + the bucket, or the window’s end for the last bucket.',
  })
  end!: string;
}

@ObjectType({ description: 'Performance over a window, and its trend bucket by bucket.' })
export class Performance extends PerformanceFigures {
  @Field(() => DateTimeISOResolver)
  since!: string;

  @Field(() => DateTimeISOResolver)
  until!: string;

  @Field(() => PerformanceBucket)
  bucket!: PerformanceBucket;

  @Field(() => [PerformancePoint], {
    description:
      'One point per bucket from `since`, oldest first, empty buckets included (runs 0, rates null).',
  })
  trend!: PerformancePoint[];
}

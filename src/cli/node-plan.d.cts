/** Types for node-plan.cjs, which stays plain JavaScript so that old Node can run it. */
export declare const MINIMUM: [number, number];
export declare const SWITCHED: string;
export declare function isRecentEnough(version: string): boolean;
export declare function nodeCacheDir(
  env: Record<string, string | undefined>,
  homedir: string,
  arch: string,
): string;

export type NodePlan =
  | { kind: 'run' }
  | { kind: 'fail'; message: string }
  | { kind: 'switch'; dir: string; binDir: string; pkg: string; install: boolean; message: string };

export declare function nodePlan(input: {
  version: string;
  platform: string;
  arch: string;
  env: Record<string, string | undefined>;
  homedir: string;
  command: string;
  cachedNodeVersion: (nodeBin: string) => string | null;
}): NodePlan;

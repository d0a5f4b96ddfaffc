import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const POM_PATH = fileURLToPath(new URL('../neo4j/pom.xml', import.meta.url));

/**
 * Resolves the Neo4j server and Browser jars with Maven and returns the Java classpath.
 * Jars stay in the Maven cache (~/.m2), so only the first resolve on a machine downloads.
 * The classpath is cached beside the data and reused while the pom and the jars are unchanged.
 */
export async function resolveNeo4jClasspath(
  cacheFile: string,
  log: (line: string) => void,
): Promise<string> {
  const pom = readFileSync(POM_PATH);
  const pomHash = createHash('sha256').update(pom).digest('hex');
  const cached = readCache(cacheFile, pomHash);
  if (cached) return cached;

  const version = /<neo4j.version>([^<]+)</.exec(pom.toString())?.[1] ?? '?';
  log(`Resolving Neo4j ${version} jars with Maven (the first time downloads about 150 MB)...`);
  const outFile = `${cacheFile}.tmp`;
  const started = Date.now();
  const ticker = setInterval(
    () => log(`  still resolving (${Math.round((Date.now() - started) / 1000)} s)...`),
    15_000,
  );
  try {
    await runMaven([
      '-B',
      '-ntp',
      '-f',
      POM_PATH,
      'dependency:build-classpath',
      `-Dmdep.outputFile=${outFile}`,
    ]);
  } finally {
    clearInterval(ticker);
  }
  const classpath = readFileSync(outFile, 'utf8').trim();
  writeFileSync(cacheFile, JSON.stringify({ pomHash, classpath }));
  log(`  resolved in ${Math.round((Date.now() - started) / 1000)} s`);
  return classpath;
}

function readCache(cacheFile: string, pomHash: string): string | undefined {
  if (!existsSync(cacheFile)) return undefined;
  try {
    const cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as {
      pomHash: string;
      classpath: string;
    };
    const jarsPresent = cache.classpath.split(':').every((jar) => existsSync(jar));
    return cache.pomHash === pomHash && jarsPresent ? cache.classpath : undefined;
  } catch {
    return undefined;
  }
}

function runMaven(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const child = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'ENOENT'
            ? 'Maven (mvn) is not installed: the local Neo4j needs Java 17+ and Maven, or set NEO4J_URI to use another Neo4j'
            : `could not run Maven: ${err.message}`,
        ),
      ),
    );
    child.on('exit', (code) => {
      if (code === 0) return resolve();
      const tail = output.trim().split('\n').slice(-15).join('\n');
      reject(new Error(`Maven could not resolve the Neo4j jars (exit ${code}):\n${tail}`));
    });
  });
}

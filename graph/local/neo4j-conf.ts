/** Where a local Neo4j keeps everything; all of it lives under the git-ignored data folder. */
export interface LocalNeo4jLayout {
  home: string;
  confDir: string;
  dataDir: string;
  logsDir: string;
  runDir: string;
  pidFile: string;
  passwordFile: string;
  consoleLog: string;
}

export interface LocalNeo4jSettings {
  boltPort: number;
  httpPort: number;
  heap: string;
  pageCache: string;
}

export function localNeo4jLayout(home: string): LocalNeo4jLayout {
  return {
    home,
    confDir: `${home}/conf`,
    dataDir: `${home}/data`,
    logsDir: `${home}/logs`,
    runDir: `${home}/run`,
    pidFile: `${home}/run/neo4j.pid`,
    passwordFile: `${home}/password`,
    consoleLog: `${home}/logs/console.log`,
  };
}

/** Renders neo4j.conf: loopback only, small fixed memory, no usage reporting. */
export function renderNeo4jConf(layout: LocalNeo4jLayout, s: LocalNeo4jSettings): string {
  return [
    '# Written by the project launcher on every start; edit LOCAL_NEO4J_* variables instead.',
    'server.default_listen_address=127.0.0.1',
    'server.default_advertised_address=127.0.0.1',
    `server.bolt.listen_address=127.0.0.1:${s.boltPort}`,
    `server.bolt.advertised_address=127.0.0.1:${s.boltPort}`,
    `server.http.listen_address=127.0.0.1:${s.httpPort}`,
    `server.http.advertised_address=127.0.0.1:${s.httpPort}`,
    'server.https.enabled=false',
    `server.memory.heap.initial_size=${s.heap}`,
    `server.memory.heap.max_size=${s.heap}`,
    `server.memory.pagecache.size=${s.pageCache}`,
    `server.directories.data=${layout.dataDir}`,
    `server.directories.logs=${layout.logsDir}`,
    `server.directories.run=${layout.runDir}`,
    `server.directories.plugins=${layout.home}/plugins`,
    `server.directories.import=${layout.home}/import`,
    'dbms.usage_report.enabled=false',
    'db.tx_log.rotation.retention_policy=1 days',
    '',
  ].join('\n');
}

/** The JVM flags that `neo4j console` passes on Java 17, with the heap from the settings. */
export function neo4jJvmArgs(s: LocalNeo4jSettings): string[] {
  return [
    `-Xms${s.heap}`,
    `-Xmx${s.heap}`,
    '-XX:+UseG1GC',
    '-XX:-OmitStackTraceInFastThrow',
    '-XX:+UnlockExperimentalVMOptions',
    '-XX:+TrustFinalNonStaticFields',
    '-XX:+DisableExplicitGC',
    '-Djdk.nio.maxCachedBufferSize=1024',
    '-Dio.netty.tryReflectionSetAccessible=true',
    '-Djdk.tls.ephemeralDHKeySize=2048',
    '-Djdk.tls.rejectClientInitiatedRenegotiation=true',
    '-XX:FlightRecorderOptions=stackdepth=256',
    '-XX:+UnlockDiagnosticVMOptions',
    '-XX:+DebugNonSafepoints',
    '--add-opens=java.base/java.nio=ALL-UNNAMED',
    '--add-opens=java.base/java.io=ALL-UNNAMED',
    '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
    '--enable-native-access=ALL-UNNAMED',
    '-Dlog4j2.disable.jmx=true',
    '-Dfile.encoding=UTF-8',
  ];
}

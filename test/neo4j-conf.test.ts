import { describe, expect, it } from 'vitest';
import { localNeo4jLayout, neo4jJvmArgs, renderNeo4jConf } from '../graph/local/neo4j-conf.js';

const settings = { boltPort: 17687, httpPort: 17474, heap: '512m', pageCache: '128m' };

describe('local neo4j.conf', () => {
  const conf = renderNeo4jConf(localNeo4jLayout('/srv/data/neo4j'), settings);

  it('listens on loopback only, on the configured ports', () => {
    expect(conf).toContain('server.default_listen_address=127.0.0.1');
    expect(conf).toContain('server.bolt.listen_address=127.0.0.1:17687');
    expect(conf).toContain('server.http.listen_address=127.0.0.1:17474');
    expect(conf).not.toMatch(/0\.0\.0\.0/);
  });

  it('sets memory explicitly, keeps data under the home folder and reports no usage', () => {
    expect(conf).toContain('server.memory.heap.max_size=512m');
    expect(conf).toContain('server.memory.pagecache.size=128m');
    expect(conf).toContain('server.directories.data=/srv/data/neo4j/data');
    expect(conf).toContain('dbms.usage_report.enabled=false');
  });

  it('passes the Java 17 flags that neo4j console passes', () => {
    const args = neo4jJvmArgs(settings);
    for (const pkg of ['java.nio', 'java.io', 'sun.nio.ch']) {
      expect(args).toContain(`--add-opens=java.base/${pkg}=ALL-UNNAMED`);
    }
    expect(args).toContain('--enable-native-access=ALL-UNNAMED');
    expect(args).toContain('-Xmx512m');
  });
});

'use strict';
// Plain CommonJS in the syntax of old Node (no ?. or ??): this runs before we know the Node
// is new enough for the project, so it must at least parse on the Node a machine ships.

const path = require('path');

/** The oldest Node the project runs on (engines in package.json). */
const MINIMUM = [22, 12];
/** process.arch values that have a node-linux-<arch> package on the npm registry. */
const ARCHES = ['x64', 'arm64'];
/** Set on the re-run command, so a switch that did not take shows as an error, not a loop. */
const SWITCHED = 'AGENT_PLATFORM_NODE_SWITCHED';

/** Whether a version such as "v20.20.2" is at least 22.12. */
function isRecentEnough(version) {
  const parts = String(version).replace(/^v/, '').split('.').map(Number);
  const major = parts[0];
  const minor = parts[1] || 0;
  return major > MINIMUM[0] || (major === MINIMUM[0] && minor >= MINIMUM[1]);
}

/** ${XDG_CACHE_HOME:-$HOME/.cache}/agent-platform/node24-<arch>, as .ci/run used. */
function nodeCacheDir(env, homedir, arch) {
  const cacheHome = env.XDG_CACHE_HOME ? env.XDG_CACHE_HOME : path.join(homedir, '.cache');
  return path.join(cacheHome, 'agent-platform', 'node24-' + arch);
}

/**
 * Decides how to run an npm script on this Node. Pure: everything it knows comes in `input`.
 *  - `run`: the running Node is 22.12 or newer; run the command as it is.
 *  - `switch`: run the command with Node 24 from `binDir` first on PATH, installing the npm
 *    package `pkg` into `dir` first when `install` is true; `message` is the one line to print.
 *  - `fail`: nothing can be done here; `message` is the one line to print.
 *
 * @param {{ version: string, platform: string, arch: string, env: Record<string, string | undefined>,
 *   homedir: string, command: string, cachedNodeVersion: (nodeBin: string) => string | null }} input
 *   `cachedNodeVersion` reports what a cached node binary says its version is (null when it
 *   is missing or does not run); it is asked only when the running Node is too old.
 */
function nodePlan(input) {
  if (isRecentEnough(input.version)) return { kind: 'run' };
  const tooOld = 'Node ' + input.version + ' is older than 22.12, which this project needs';
  const yourself = 'install Node 22.12 or newer (24 LTS recommended) from https://nodejs.org';
  if (input.env[SWITCHED]) {
    return {
      kind: 'fail',
      message: tooOld + ', even with ' + input.env[SWITCHED] + ' first on PATH: ' + yourself,
    };
  }
  if (input.platform !== 'linux' || ARCHES.indexOf(input.arch) < 0) {
    return {
      kind: 'fail',
      message:
        tooOld +
        ', and Node 24 is fetched only for Linux on x64 or arm64, not ' +
        input.platform +
        '-' +
        input.arch +
        ': ' +
        yourself,
    };
  }
  const dir = nodeCacheDir(input.env, input.homedir, input.arch);
  const pkg = 'node-linux-' + input.arch + '@24';
  const binDir = path.join(dir, 'node_modules', 'node-linux-' + input.arch, 'bin');
  const cached = input.cachedNodeVersion(path.join(binDir, 'node'));
  const install = !(cached && isRecentEnough(cached));
  const message = install
    ? tooOld +
      ': installing Node 24 from the npm registry (' +
      pkg +
      ') into ' +
      dir +
      ' and running "' +
      input.command +
      '" with it'
    : tooOld + ': running "' + input.command + '" with Node ' + cached + ' from ' + dir;
  return { kind: 'switch', dir: dir, binDir: binDir, pkg: pkg, install: install, message: message };
}

module.exports = { MINIMUM, SWITCHED, isRecentEnough, nodeCacheDir, nodePlan };

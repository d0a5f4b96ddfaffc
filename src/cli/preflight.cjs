'use strict';
// `node src/cli/preflight.cjs <command> [args...]`: every npm script that needs the project's
// Node goes through this. On Node 22.12+ it runs the command; on an older Node (machines ship
// Node 20) it runs it with Node 24 from the npm registry, cached outside the clone, and says so
// in one line; where that is impossible it says what to do in one line. Issue 9.
// Plain CommonJS in old Node's syntax: it must run on the Node it replaces.

const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { SWITCHED, isRecentEnough, nodePlan } = require('./node-plan.cjs');

function main(argv) {
  if (argv.length === 0) fail('usage: node src/cli/preflight.cjs <command> [args...]');
  const script = process.env.npm_lifecycle_event;
  const plan = nodePlan({
    version: process.version,
    platform: process.platform,
    arch: process.arch,
    env: process.env,
    homedir: os.homedir(),
    command: !script
      ? argv.join(' ')
      : /^(start|test)$/.test(script)
        ? 'npm ' + script
        : 'npm run ' + script,
    cachedNodeVersion: nodeVersionOf,
  });
  if (plan.kind === 'fail') fail(plan.message);
  if (plan.kind === 'run') return run(argv, process.env);

  console.error(plan.message);
  if (plan.install) install(plan);
  const env = Object.assign({}, process.env);
  env.PATH = plan.binDir + path.delimiter + (process.env.PATH || '');
  env[SWITCHED] = plan.binDir;
  run(argv, env);
}

/** What `nodeBin --version` prints, or null when it is missing or does not run. */
function nodeVersionOf(nodeBin) {
  if (!fs.existsSync(nodeBin)) return null;
  const result = childProcess.spawnSync(nodeBin, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}

/**
 * npm-installs the Node package into a folder of its own, then renames it into place, so two
 * runs that install at once (two CI copies) never see a half-written Node.
 */
function install(plan) {
  const staging = plan.dir + '.tmp-' + process.pid;
  removeDir(staging);
  fs.mkdirSync(staging, { recursive: true });
  const npm = npmCommand();
  const result = childProcess.spawnSync(
    npm[0],
    npm
      .slice(1)
      .concat([
        'install',
        '--prefix',
        staging,
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        plan.pkg,
      ]),
    { encoding: 'utf8', env: npmEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  if (result.status !== 0) {
    removeDir(staging);
    const lines = String(result.stderr || (result.error && result.error.message) || '')
      .trim()
      .split('\n')
      .filter((line) => /\S/.test(line));
    const reason = lines.find((line) => /ERR!.*(code|network|404|E[A-Z]+)/.test(line)) || lines[0];
    fail(
      'could not install Node 24 (npm install ' +
        plan.pkg +
        ' failed: ' +
        (reason || 'no output').replace(/^npm (error|ERR!) /, '') +
        '); install Node 22.12 or newer (24 LTS recommended) from https://nodejs.org',
    );
  }
  const nodeBin = path.join(plan.binDir, 'node');
  const inPlace = nodeVersionOf(nodeBin);
  // No usable Node in place (none yet, or a broken or old one): ours replaces it.
  if (!(inPlace && isRecentEnough(inPlace))) removeDir(plan.dir);
  try {
    fs.renameSync(staging, plan.dir);
  } catch (err) {
    // Another run put its Node in place first; use that one.
    removeDir(staging);
  }
  const version = nodeVersionOf(nodeBin);
  if (!(version && isRecentEnough(version))) {
    fail('installed Node 24 into ' + plan.dir + ', but it does not run here (' + version + ')');
  }
}

/** The npm that runs this script (npm sets npm_execpath), else npm from PATH. */
function npmCommand() {
  const execPath = process.env.npm_execpath;
  if (execPath && /\.c?js$/.test(execPath)) return [process.execPath, execPath];
  return [execPath || 'npm'];
}

/** The environment without the running npm's own settings (its prefix would win over ours). */
function npmEnv() {
  const env = {};
  for (const key of Object.keys(process.env)) {
    if (!/^npm_(config_(local_)?prefix|lifecycle_|package_)/i.test(key))
      env[key] = process.env[key];
  }
  return env;
}

function removeDir(dir) {
  if (fs.rmSync) fs.rmSync(dir, { recursive: true, force: true });
  else if (fs.existsSync(dir)) fs.rmdirSync(dir, { recursive: true });
}

/** Runs the command with the terminal, passes signals on, and exits as it exits. */
function run(argv, env) {
  const child = childProcess.spawn(argv[0], argv.slice(1), { stdio: 'inherit', env: env });
  // Ctrl-C reaches the child from the terminal itself (not passed on: twice would be two);
  // without a terminal, a SIGINT was sent to us alone (a script, a supervisor): passed on.
  const forward = (signal) => () => child.kill(signal);
  process.on('SIGINT', process.stdin.isTTY ? () => {} : forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  process.on('SIGHUP', forward('SIGHUP'));
  child.on('error', (err) => fail('could not run ' + argv[0] + ': ' + err.message));
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code === null ? 1 : code);
  });
}

function fail(message) {
  console.error('Cannot run: ' + message);
  process.exit(1);
}

main(process.argv.slice(2));

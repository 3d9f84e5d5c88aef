import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../config/project-root';
import { freePort, waitForPort } from './ports';

/**
 * Temporal's time-skipping test server (part of the Java SDK), for workflow tests that run their
 * deadlines in virtual time. Fetched once, pinned, from Maven Central with Maven into the ignored
 * `.tools` folder, and started through a wrapper script that `TestWorkflowEnvironment.createTimeSkipping`
 * runs as `<wrapper> <port>`. Tests only: nothing in production uses it.
 */
export const TEMPORAL_TEST_SERVER = {
  groupId: 'io.temporal',
  artifactId: 'temporal-test-server',
  // Pinned: its behaviour (time skipping, Updates, search attributes) is what the workflow tests rely on.
  version: '1.38.0',
  mainClass: 'io.temporal.testserver.TestServer',
  /** The server logs through SLF4J; this binding sends its warnings and errors to stderr. */
  logging: { groupId: 'org.slf4j', artifactId: 'slf4j-simple', version: '1.7.36' },
} as const;

const INSTALL_HINT =
  'Install Java 17+ and Maven (Debian/Ubuntu: `apt-get install -y maven`, which brings a JDK; macOS: `brew install maven`) and run the tests again';

export const testServerDir = path.join(projectRoot, '.tools', `temporal-test-server-${TEMPORAL_TEST_SERVER.version}`);
const wrapperName = 'temporal-test-server';

function onPath(binary: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${binary}`]).status === 0;
}

/**
 * Returns the path of the wrapper script, fetching the server's jars first if needed (with progress on
 * stderr). The download happens once per checkout; later runs find the wrapper and return at once.
 */
export async function ensureTemporalTestServer(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<string> {
  const wrapper = path.join(testServerDir, wrapperName);
  if (fs.existsSync(wrapper)) return wrapper;

  for (const binary of ['java', 'mvn']) {
    if (!onPath(binary)) {
      throw new Error(`The workflow tests need Temporal's time-skipping test server, which is fetched from Maven Central with Maven and runs on Java, but \`${binary}\` is not on PATH. ${INSTALL_HINT}.`);
    }
  }
  const { groupId, artifactId, version } = TEMPORAL_TEST_SERVER;
  // Built beside the final folder and renamed into place, so a half-built server is never used.
  const building = `${testServerDir}.building-${process.pid}`;
  fs.rmSync(building, { recursive: true, force: true });
  fs.mkdirSync(building, { recursive: true });
  const started = Date.now();
  log(`Fetching the Temporal test server (${groupId}:${artifactId}:${version}) from Maven Central into ${path.relative(projectRoot, testServerDir)}. This happens once and takes a minute or two.`);
  try {
    fs.writeFileSync(path.join(building, 'pom.xml'), pom());
    await fetchJars(building, log);
    fs.writeFileSync(path.join(building, wrapperName), wrapperScript(), { mode: 0o755 });
    try {
      fs.renameSync(building, testServerDir);
    } catch (err) {
      // Another run finished first: use its copy.
      if (!fs.existsSync(wrapper)) throw err;
      fs.rmSync(building, { recursive: true, force: true });
      return wrapper;
    }
  } catch (err) {
    fs.rmSync(building, { recursive: true, force: true });
    throw err;
  }
  // In place: the archive records the classpath it was made with.
  await buildClassDataArchive(testServerDir, log);
  log(`Temporal test server ready in ${Math.round((Date.now() - started) / 1000)} s.`);
  return wrapper;
}

function pom(): string {
  const { groupId, artifactId, version, logging } = TEMPORAL_TEST_SERVER;
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by scripts/temporal-test-server.ts: the jars of Temporal's time-skipping test server. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.coop-credits</groupId>
  <artifactId>temporal-test-server-classpath</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>${groupId}</groupId><artifactId>${artifactId}</artifactId><version>${version}</version></dependency>
    <dependency><groupId>${logging.groupId}</groupId><artifactId>${logging.artifactId}</artifactId><version>${logging.version}</version></dependency>
  </dependencies>
</project>
`;
}

/** `mvn dependency:copy-dependencies` into lib/, reporting how many files it has downloaded so far. */
async function fetchJars(dir: string, log: (line: string) => void): Promise<void> {
  const output: string[] = [];
  let downloaded = 0;
  let kilobytes = 0;
  const started = Date.now();
  const ticker = setInterval(() => log(`  ... still fetching (${Math.round((Date.now() - started) / 1000)} s, ${downloaded} files, ${(kilobytes / 1024).toFixed(1)} MB so far)`), 10_000);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn('mvn', ['--batch-mode', 'dependency:copy-dependencies', '-DoutputDirectory=lib'], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const take = (d: Buffer) => {
        const text = d.toString();
        output.push(text);
        for (const line of text.split('\n')) {
          const match = /Downloaded from [^:]+: \S+ \((\d+(?:\.\d+)?) (kB|MB|B)/.exec(line);
          if (!match) continue;
          downloaded++;
          const size = Number(match[1]);
          kilobytes += match[2] === 'MB' ? size * 1024 : match[2] === 'kB' ? size : size / 1024;
        }
      };
      child.stdout.on('data', take);
      child.stderr.on('data', take);
      child.on('error', reject);
      child.on('exit', resolve);
    });
    const jars = fs.existsSync(path.join(dir, 'lib')) ? fs.readdirSync(path.join(dir, 'lib')).filter((f) => f.endsWith('.jar')) : [];
    if (code !== 0 || !jars.some((f) => f.startsWith(`${TEMPORAL_TEST_SERVER.artifactId}-`))) {
      throw new Error(
        `Fetching the Temporal test server failed (mvn dependency:copy-dependencies in ${dir}, exit ${code}):\n${output.join('').slice(-4000)}\n` +
          'Check that Maven can reach Maven Central (a mirror or proxy in ~/.m2/settings.xml, if you need one), then run the tests again.',
      );
    }
    log(`  fetched ${jars.length} jars (${downloaded} files downloaded, the rest from the local Maven repository)`);
  } finally {
    clearInterval(ticker);
  }
}

/**
 * Java's class-data sharing: one run of the server records the classes it loads, and later starts map
 * them instead of loading them again (about 0.4 s instead of 1.6 s). The SDK gives the server 5 s to
 * answer, so a fast start matters on a busy machine. Optional: without the archive the server still starts.
 */
async function buildClassDataArchive(dir: string, log: (line: string) => void): Promise<void> {
  const archive = path.join(dir, 'test-server.jsa');
  // Written aside and renamed: a server started meanwhile runs without it rather than on half of it.
  const writing = `${archive}.writing-${process.pid}`;
  const port = await freePort();
  const child = spawn('java', [`-XX:ArchiveClassesAtExit=${writing}`, '-Xlog:cds=off', '-Xlog:cds+dynamic=off', '-cp', `${path.join(dir, 'lib')}/*`, TEMPORAL_TEST_SERVER.mainClass, String(port)], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort('the test server', port, child, 60_000);
    // Let it serve one request, so the classes a connection needs are recorded too.
    const { Connection } = await import('@temporalio/client');
    const connection = await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: 10_000 });
    await connection.workflowService.getSystemInfo({});
    await connection.close();
  } catch (err) {
    log(`  (skipping the class-data archive: ${err instanceof Error ? err.message : String(err)})`);
  } finally {
    // The JVM writes the archive as it exits.
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 60_000)))]);
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  if (fs.existsSync(writing)) fs.renameSync(writing, archive);
  else log('  (no class-data archive was written; the test server will start a little slower)');
}

function wrapperScript(): string {
  const { groupId, artifactId, version, mainClass } = TEMPORAL_TEST_SERVER;
  return `#!/bin/sh
# Temporal's time-skipping test server (${groupId}:${artifactId}:${version} from Maven Central),
# written by scripts/temporal-test-server.ts. Usage: temporal-test-server <port> [--enable-time-skipping]
# exec, so that the SDK's kill reaches the JVM itself.
dir=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
java=java
[ -n "\${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ] && java="$JAVA_HOME/bin/java"
cds=
[ -f "$dir/test-server.jsa" ] && cds="-XX:SharedArchiveFile=$dir/test-server.jsa -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off"
exec "$java" $cds -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx1g \\
  -Dorg.slf4j.simpleLogger.defaultLogLevel=\${TEMPORAL_TEST_SERVER_LOG_LEVEL:-error} -Dorg.slf4j.simpleLogger.logFile=System.err \\
  -cp "$dir/lib/*" ${mainClass} "$@"
`;
}

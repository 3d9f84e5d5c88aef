import { Router } from 'express';
import type { ApiDependencies } from '../dependencies';

const CHECK_TIMEOUT_MS = 2_000;

/** A failing check answers `failing` only: its error (hosts, ports, role names) goes to the log, not to anyone who asks. */
async function check(log: ApiDependencies['logger'], name: string, probe: () => Promise<unknown>): Promise<[string, string]> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return [name, 'ok'];
  } catch (err) {
    log.warn({ check: name, err: err instanceof Error ? err.message : String(err) }, 'readiness check failing');
    return [name, 'failing'];
  } finally {
    clearTimeout(timer);
  }
}

/** Liveness (the process answers) and readiness (its dependencies answer). Public, unauthenticated. */
export function healthRouter(deps: ApiDependencies): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const checks = Object.fromEntries(
      await Promise.all([
        check(deps.logger, 'postgres', () => deps.pool.query('SELECT 1')),
        // With a deadline of its own: a probe that lost the race must not go on retrying in the background.
        check(deps.logger, 'temporal', () => deps.temporal.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () => deps.temporal.workflowService.getSystemInfo({}))),
      ]),
    );
    const ready = Object.values(checks).every((v) => v === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks });
  });
  return router;
}

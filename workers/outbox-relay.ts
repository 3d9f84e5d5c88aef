import { Client } from 'pg';
import type { Logger } from 'pino';
import type { PublishResult } from '../activities/outbox';
import { OUTBOX_CHANNEL } from '../db/outbox';

export interface OutboxRelay {
  stop(): Promise<void>;
}

/** Waits while a committed event is held back behind a transaction still running: short at first, at most a second. */
const HELD_BACK_DELAYS_MS = { first: 20, max: 1_000 };
/** Waits before connecting again, or publishing again after an error. */
const RETRY_DELAYS_MS = { first: 500, max: 10_000 };

/**
 * The outbox relay, in the worker process: LISTENs on the outbox channel on a connection of its own
 * and publishes (activities/outbox.ts) whenever a transaction that wrote events commits. Notifications
 * that arrive while it publishes fold into one more round. It survives a database restart: a lost
 * connection is opened again with backoff, and every (re)connection starts with a publish, which takes
 * whatever committed while nobody listened, the time the worker was down included. What it cannot
 * make good (a wake-up Temporal did not take, a worker that died between publishing and waking) is the
 * outbox sweep's, run by a Temporal Schedule: the relay is the fast path, not the only one.
 */
export function startOutboxRelay(options: { databaseUrl: string; publish: () => Promise<PublishResult>; log: Logger }): OutboxRelay {
  const { log } = options;
  let stopped = false;
  let listener: Client | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let heldBackDelay = HELD_BACK_DELAYS_MS.first;
  let publishErrorDelay = RETRY_DELAYS_MS.first;
  let connectDelay = RETRY_DELAYS_MS.first;
  // At most one publish and one connection waiting to be tried again.
  let publishTimer: NodeJS.Timeout | undefined;
  let connectTimer: NodeJS.Timeout | undefined;

  const publishLater = (ms: number) => {
    if (stopped || publishTimer) return;
    publishTimer = setTimeout(() => {
      publishTimer = undefined;
      publishSoon();
    }, ms);
  };

  function publishSoon(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      try {
        let result: PublishResult;
        do {
          again = false;
          result = await options.publish();
        } while (again && !stopped);
        publishErrorDelay = RETRY_DELAYS_MS.first;
        if (result.waiting) {
          publishLater(heldBackDelay);
          heldBackDelay = Math.min(heldBackDelay * 2, HELD_BACK_DELAYS_MS.max);
        } else heldBackDelay = HELD_BACK_DELAYS_MS.first;
      } catch (err) {
        log.warn({ err }, 'outbox relay could not publish; trying again');
        publishLater(publishErrorDelay);
        publishErrorDelay = Math.min(publishErrorDelay * 2, RETRY_DELAYS_MS.max);
      } finally {
        running = undefined;
      }
    })();
  }

  async function listen(): Promise<void> {
    if (stopped) return;
    const client = new Client({ connectionString: options.databaseUrl, keepAlive: true, application_name: 'coop-credits-outbox-relay' });
    let lost = false;
    const reconnect = (err?: unknown) => {
      if (lost || stopped) return;
      lost = true;
      log.warn({ err }, 'outbox relay lost its database connection; listening again');
      void client.end().catch(() => undefined);
      if (!stopped) connectTimer = setTimeout(() => void listen(), connectDelay);
      connectDelay = Math.min(connectDelay * 2, RETRY_DELAYS_MS.max);
    };
    client.on('error', reconnect);
    client.on('end', () => reconnect());
    client.on('notification', publishSoon);
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    } catch (err) {
      reconnect(err);
      return;
    }
    listener = client;
    connectDelay = RETRY_DELAYS_MS.first;
    log.info('outbox relay listening');
    publishSoon();
  }

  void listen();
  return {
    async stop() {
      stopped = true;
      clearTimeout(publishTimer);
      clearTimeout(connectTimer);
      await listener?.end().catch(() => undefined);
      await running;
    },
  };
}

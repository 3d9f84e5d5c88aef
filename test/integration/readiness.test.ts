import { Client, Connection } from '@temporalio/client';
import express from 'express';
import pino from 'pino';
import type { AddressInfo } from 'node:net';
import { createStripeClient } from '../../clients/stripe';
import { createApp } from '../../api/app';
import { createPool } from '../../db/pool';
import { freePort } from '../../scripts/ports';
import { testConfig } from '../harness/stack';

describe('readiness', () => {
  it('answers 503 and names the failing part when PostgreSQL is unreachable', async () => {
    const config = testConfig();
    const deadPort = await freePort();
    const pool = createPool(`postgres://postgres:postgres@127.0.0.1:${deadPort}/none`, { connectionTimeoutMillis: 500 });
    const connection = await Connection.connect({ address: config.temporal.address });
    const app: express.Express = createApp({ config, pool, temporal: new Client({ connection }), logger: pino({ level: 'silent' }), stripe: createStripeClient(config.stripe) });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { status: string; checks: Record<string, string> };
      expect(body.status).toBe('unavailable');
      expect(body.checks.temporal).toBe('ok');
      expect(body.checks.postgres).toBe('failing');
    } finally {
      server.close();
      await connection.close();
      await pool.end();
    }
  });
});

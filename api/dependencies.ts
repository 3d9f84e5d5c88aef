import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type Stripe from 'stripe';
import type { Logger } from 'pino';
import type { ChainConnector } from '../clients/chain';
import type { Config } from '../config/config';

/** What the API's routes are built from; tests pass their own. */
export interface ApiDependencies {
  config: Config;
  pool: Pool;
  temporal: Client;
  logger: Logger;
  /** Verifies webhook signatures. */
  stripe: Stripe;
  /** The chain (stream registration reads it); by default connected on first use from the configuration. */
  chain?: ChainConnector;
  /** How long a request waits for a short workflow before answering 202 (default 10 s). */
  workflowWaitMs?: number;
}

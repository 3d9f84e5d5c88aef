import type { PoolClient } from 'pg';
import type { DomainEvent } from '../domain/events';
import { toJsonParam } from './json';

/**
 * Records an event in the outbox, inside the caller's transaction: the event exists exactly when the
 * change it reports commits. (Ledger transactions write theirs in the same statement as their entries.)
 */
export async function recordEvent(client: PoolClient, cooperativeId: string, event: DomainEvent): Promise<void> {
  await client.query('INSERT INTO outbox (cooperative_id, event_type, aggregate_id, payload) VALUES ($1, $2, $3, $4::jsonb)', [
    cooperativeId, event.type, event.aggregateId, toJsonParam(event.payload),
  ]);
}

import { escapeLiteral, type PoolClient } from 'pg';
import type { DomainEvent } from '../domain/events';
import { toJsonParam } from './json';

/** The statement that records `event`, for a batch of statements sent together at the end of a transaction. */
export function recordEventStatement(cooperativeId: string, event: DomainEvent): string {
  return `INSERT INTO outbox (cooperative_id, event_type, aggregate_id, payload)
          VALUES (${escapeLiteral(cooperativeId)}, ${escapeLiteral(event.type)}, ${escapeLiteral(event.aggregateId)}, ${escapeLiteral(toJsonParam(event.payload))}::jsonb)`;
}

/**
 * Records an event in the outbox, inside the caller's transaction: the event exists exactly when the
 * change it reports commits. (Ledger transactions write theirs in the same statement as their entries.)
 */
export async function recordEvent(client: PoolClient, cooperativeId: string, event: DomainEvent): Promise<void> {
  await client.query(recordEventStatement(cooperativeId, event));
}

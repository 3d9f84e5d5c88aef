import { createHash, verify } from 'node:crypto';
import type { Pool } from 'pg';
import { canonical } from '../domain/canonical-json';
import { BusinessError } from '../domain/errors';
import type { GovernanceProof } from '../domain/network/economic-events';
import { findBooking } from './bookings';
import { findProposal, governanceSettings } from './governance';

const refuse = (message: string) => new BusinessError('VALIDATION_ERROR', `Governance proof refused: ${message}`);

/**
 * The one verification of governance proof (decision 0022), so a change to how decisions are recorded
 * changes only this: the proposal named is approved, its signed record says so, every affected
 * cooperative is a stakeholder whose signature over the record verifies with its public key, and the
 * record covers the event (the event is about the proposal itself, or about a booking it decided).
 * Returns the proof with the digest of the record it rests on.
 */
export async function verifyGovernanceProof(pool: Pool, proof: { proposalId: string }, event: { cooperatives: string[]; aggregateId: string }): Promise<GovernanceProof> {
  const p = await findProposal(pool, proof.proposalId);
  if (!p) throw refuse(`proposal ${proof.proposalId} not found`);
  if (p.status !== 'approved') throw refuse(`proposal ${p.id} is ${p.status}, not approved`);
  const audit = p.audit as { proposalId?: string; outcome?: string } | null;
  if (!audit || !p.signatures) throw refuse(`proposal ${p.id} has no signed record`);
  if (audit.proposalId !== p.id || audit.outcome !== 'approved') throw refuse(`the record of proposal ${p.id} does not record its approval`);
  const message = Buffer.from(canonical(audit));
  for (const cooperativeId of new Set(event.cooperatives)) {
    if (!p.stakeholders.includes(cooperativeId)) throw refuse(`cooperative ${cooperativeId} did not decide proposal ${p.id}`);
    const signature = p.signatures[cooperativeId];
    const { publicKey } = await governanceSettings(pool, cooperativeId);
    if (!signature || !verify(null, message, publicKey, Buffer.from(signature, 'base64'))) throw refuse(`cooperative ${cooperativeId}'s signature does not verify`);
  }
  if (event.aggregateId !== p.id) {
    const booking = await findBooking(pool, event.aggregateId);
    if (booking?.proposalId !== p.id) throw refuse(`proposal ${p.id} did not decide ${event.aggregateId}`);
  }
  return { proposalId: p.id, recordDigest: createHash('sha256').update(message).digest('hex') };
}

import type { Pool } from 'pg';
import { GOVERNANCE_EVENT_TYPES } from '../domain/network/economic-events';
import { inSystemTransaction } from './transaction';

/** What the network did, for one cooperative or all of them (decision 0022). */
export interface NetworkFigures {
  /** Proposals decided (approved or rejected) with this cooperative among the stakeholders. */
  decisions: number;
  approved: number;
  rejected: number;
  /** Of this cooperative's tallies in decided proposals, the share that met its quorum (null before any). */
  quorumRate: number | null;
  /** Rejected decisions over all decisions (null before any). */
  rejectionRate: number | null;
  /** Economic events concerning it, and of those the governance events the system wrote. */
  events: number;
  governanceEvents: number;
  bookings: number;
  confirmedBookings: number;
}

export interface NetworkReport {
  network: NetworkFigures;
  cooperatives: Array<{ cooperativeId: string; slug: string } & NetworkFigures>;
}

interface FiguresRow {
  cooperative_id: string | null;
  slug: string | null;
  decisions: string;
  approved: string;
  rejected: string;
  tallies: string;
  quorum_met: string;
  events: string;
  governance_events: string;
  bookings: string;
  confirmed_bookings: string;
}

const GOVERNANCE = `(${GOVERNANCE_EVENT_TYPES.map((t) => `'${t}'`).join(', ')})`;

// One row per cooperative (GROUPING SETS adds the network's, cooperative null). A stakeholder's tally
// is read from the signed record's `cooperatives` entries, the one place quorum is recorded.
const REPORT = `
  WITH tallies AS (
    SELECT s.cooperative_id, p.id, p.status, (t.entry->'tally'->>'quorumMet')::boolean AS quorum_met
      FROM proposals p CROSS JOIN LATERAL unnest(p.stakeholders) AS s(cooperative_id)
      LEFT JOIN LATERAL (SELECT x AS entry FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p.audit->'cooperatives') = 'array' THEN p.audit->'cooperatives' ELSE '[]' END) x
                          WHERE x->>'cooperativeId' = s.cooperative_id::text LIMIT 1) t ON true
     WHERE p.status IN ('approved', 'rejected') AND ($1::uuid IS NULL OR s.cooperative_id = $1)
  ), facts AS (
    SELECT cooperative_id, 'decision' AS kind, id::text AS subject, status, quorum_met FROM tallies
    UNION ALL
    SELECT c, 'event', e.id::text, e.type, NULL::boolean FROM economic_events e CROSS JOIN LATERAL unnest(e.cooperatives) AS c WHERE $1::uuid IS NULL OR c = $1
    UNION ALL
    SELECT DISTINCT c, 'booking', b.id::text, b.status, NULL::boolean FROM bookings b CROSS JOIN LATERAL unnest(ARRAY[b.owner_cooperative_id, b.requester_cooperative_id]) AS c
     WHERE $1::uuid IS NULL OR c = $1
  )
  SELECT f.cooperative_id, min(co.slug) AS slug,
         count(DISTINCT f.subject) FILTER (WHERE f.kind = 'decision') AS decisions,
         count(DISTINCT f.subject) FILTER (WHERE f.kind = 'decision' AND f.status = 'approved') AS approved,
         count(DISTINCT f.subject) FILTER (WHERE f.kind = 'decision' AND f.status = 'rejected') AS rejected,
         count(*) FILTER (WHERE f.kind = 'decision' AND f.quorum_met IS NOT NULL) AS tallies,
         count(*) FILTER (WHERE f.kind = 'decision' AND f.quorum_met) AS quorum_met,
         count(DISTINCT f.subject) FILTER (WHERE f.kind = 'event') AS events,
         count(DISTINCT f.subject) FILTER (WHERE f.kind = 'event' AND f.status IN ${GOVERNANCE}) AS governance_events,
         count(DISTINCT f.subject) FILTER (WHERE f.kind = 'booking') AS bookings,
         count(DISTINCT f.subject) FILTER (WHERE f.kind = 'booking' AND f.status = 'confirmed') AS confirmed_bookings
    FROM facts f LEFT JOIN cooperatives co ON co.id = f.cooperative_id
   GROUP BY GROUPING SETS ((f.cooperative_id), ())
   ORDER BY f.cooperative_id NULLS FIRST`;

const ratio = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000);

function figures(r: FiguresRow | undefined): NetworkFigures {
  const n = (v: string | undefined) => Number(v ?? 0);
  const decisions = n(r?.decisions);
  return {
    decisions, approved: n(r?.approved), rejected: n(r?.rejected), quorumRate: ratio(n(r?.quorum_met), n(r?.tallies)), rejectionRate: ratio(n(r?.rejected), decisions),
    events: n(r?.events), governanceEvents: n(r?.governance_events), bookings: n(r?.bookings), confirmedBookings: n(r?.confirmed_bookings),
  };
}

/** The network's figures and each cooperative's (only `cooperativeId`'s when given). */
export async function networkReport(pool: Pool, cooperativeId?: string): Promise<NetworkReport> {
  const { rows } = await inSystemTransaction(pool, (client) => client.query<FiguresRow>(REPORT, [cooperativeId ?? null]));
  // The grand total row is the one whose cooperative is null and comes first (no fact has a null cooperative).
  const [total, ...perCooperative] = rows;
  return {
    network: figures(total),
    cooperatives: perCooperative.map((r) => ({ cooperativeId: r.cooperative_id!, slug: r.slug ?? '', ...figures(r) })),
  };
}

import { heartbeat } from '@temporalio/activity';
import type { Pool } from 'pg';
import { blockInstant, readFlowUpdates, readRealtimeBalances, type ChainConnector, type FlowUpdate } from '../clients/chain';
import { runReconciliation, type ReconciliationOutcome } from '../db/reconciliations';
import { latestSnapshots, recordSnapshots, samplesEndingAfter, snapshotKey, type AccountSnapshot, type ReplayableSample } from '../db/stream-reconciliation';
import { streamsWithBookings } from '../db/streams';
import type { ReconciliationFinding } from '../domain/reconciliation';
import { fromUnixSeconds, unixSeconds } from '../domain/sampling-instants';
import { flowOver } from '../domain/stream-flow';
import type { ScheduledJobResult } from '../domain/scheduled-jobs';
import { driftBeyond, STREAM_RECONCILIATION_CHECKS, type StreamReconciliationInput } from '../domain/stream-reconciliation';
import type { Stream } from '../domain/streams';
import { asActivity } from './business-failure';
import { countedReconciliation } from './reconciliation-result';

export interface StreamReconciliationDependencies {
  pool: Pool;
  chain: ChainConnector;
  /** How far (basis points of what was booked) an account may drift before it is a finding. */
  thresholdBps: number;
}

/** The account of a stream that is the cooperative's: the receiver of an inbound stream, the sender of an outbound one. */
const ownAccount = (s: Stream) => (s.direction === 'inbound' ? s.receiver : s.sender);

/** The flow over [from, to) of the changes in the blocks after `afterBlock` up to `toBlock`, from the given rate. */
function flowBetween(updates: FlowUpdate[], rate: bigint, from: bigint, to: bigint, afterBlock: bigint, toBlock: bigint) {
  return flowOver(rate, from, to, updates.filter((u) => u.blockNumber > afterBlock && u.blockNumber <= toBlock));
}

/**
 * The daily stream reconciliation of one cooperative, for one scheduled instant (a `streams`
 * reconciliation run keyed by both), at the chain's latest block:
 * - samples: each sample posted since the previous run is recomputed from the chain's FlowUpdated
 *   history between its boundary blocks; any difference in wei or in the rate it ended with is a finding;
 * - accounts: for each cooperative account of a token (the receiver of its inbound streams, the sender
 *   of its outbound ones), how its balance moved since the previous run (available plus the buffer
 *   deposit it locked as a sender, which is still its own) is compared with what its streams booked
 *   (their samples, and the flow since the last sample by the chain's history). Beyond the threshold
 *   (10 % by default) it is a finding: a transfer outside the streams, a flow nobody registered, a
 *   liquidated deposit. The first run of an account only records where it stands.
 */
export function streamReconciler(deps: StreamReconciliationDependencies) {
  return (cooperativeId: string, scheduledFor: Date, onProgress: () => void = () => undefined): Promise<ReconciliationOutcome> =>
    runReconciliation(deps.pool, { kind: 'streams', scheduledFor, cooperativeId }, async (runId) => {
      const client = await deps.chain();
      const head = await blockInstant(client, 'latest');
      const takenAt = fromUnixSeconds(head.timestamp);
      const streams = await streamsWithBookings(deps.pool, cooperativeId);
      const previous = await latestSnapshots(deps.pool, cooperativeId, takenAt);
      const since = [...previous.values()].reduce<Date | undefined>((min, s) => (min === undefined || Date.parse(s.takenAt) < min.getTime() ? new Date(s.takenAt) : min), undefined);
      const replays = new Map<string, ReplayableSample[]>();
      for (const sample of await samplesEndingAfter(deps.pool, cooperativeId, since)) replays.set(sample.streamId, [...(replays.get(sample.streamId) ?? []), sample]);

      const sampleFindings: ReconciliationFinding[] = [];
      const accounts = new Map<string, AccountSnapshot>();
      for (const stream of streams) {
        const replay = replays.get(stream.id) ?? [];
        const fromBlock = replay[0]?.startBlock ?? stream.sampledUntil.block;
        const updates = await readFlowUpdates(client, { token: stream.token, sender: stream.sender, receiver: stream.receiver }, { fromBlock: fromBlock + 1n, toBlock: head.number });
        for (const sample of replay) {
          const chain = flowBetween(updates, sample.startRate, unixSeconds(new Date(sample.intervalStart)), unixSeconds(new Date(sample.intervalEnd)), sample.startBlock, sample.endBlock);
          if (chain.amount !== sample.amountWei || chain.endRate !== sample.endFlowRate) {
            sampleFindings.push({
              check: STREAM_RECONCILIATION_CHECKS.samples, cooperativeId: stream.cooperativeId, subject: `stream ${stream.id} [${sample.intervalStart}, ${sample.intervalEnd})`,
              detail: `booked ${sample.amountWei} wei ending at ${sample.endFlowRate} wei/s; the chain's history says ${chain.amount} wei ending at ${chain.endRate} wei/s`,
            });
          }
        }
        // An inactive stream books nothing after its last sample: what flows after it is the account's drift.
        const position = stream.sampledUntil;
        const tail = stream.status === 'active' && head.timestamp > unixSeconds(new Date(position.at))
          ? flowBetween(updates, position.flowRate, unixSeconds(new Date(position.at)), head.timestamp, position.block, head.number).amount
          : 0n;
        const booked = (stream.bookedWei + tail) * (stream.direction === 'inbound' ? 1n : -1n);
        const key = { cooperativeId: stream.cooperativeId, token: stream.token, account: ownAccount(stream) };
        const account = accounts.get(snapshotKey(key)) ?? { ...key, block: head.number, takenAt: takenAt.toISOString(), balance: 0n, booked: 0n };
        accounts.set(snapshotKey(key), { ...account, booked: account.booked + booked });
        onProgress();
      }

      const holdings = [...accounts.values()];
      const balances = await readRealtimeBalances(client, holdings.map((a) => ({ token: a.token as `0x${string}`, account: a.account as `0x${string}` })), head);
      const snapshots = holdings.map((a, i) => ({ ...a, balance: balances[i]!.available + balances[i]!.deposit }));
      const accountFindings: ReconciliationFinding[] = [];
      for (const now of snapshots) {
        const before = previous.get(snapshotKey(now));
        if (!before) continue;
        const [expected, actual] = [now.booked - before.booked, now.balance - before.balance];
        if (driftBeyond(expected, actual, deps.thresholdBps)) {
          accountFindings.push({
            check: STREAM_RECONCILIATION_CHECKS.accounts, cooperativeId: now.cooperativeId, subject: `account ${now.account} of token ${now.token}`,
            detail: `from ${before.takenAt} to ${now.takenAt} its balance moved ${actual} wei and its streams booked ${expected} wei (a difference of ${actual - expected} wei, over ${deps.thresholdBps / 100} %)`,
          });
        }
      }
      await recordSnapshots(deps.pool, runId, snapshots);
      return { checks: [{ name: STREAM_RECONCILIATION_CHECKS.samples, findings: sampleFindings }, { name: STREAM_RECONCILIATION_CHECKS.accounts, findings: accountFindings }] };
    });
}

/** The stream reconciliation workflow's activity: one cooperative's run, as its result. */
export function createStreamReconciliationActivities(reconcile: ReturnType<typeof streamReconciler>) {
  return {
    reconcileCooperativeStreams: (input: StreamReconciliationInput): Promise<ScheduledJobResult> =>
      asActivity(async () => countedReconciliation(await reconcile(input.cooperativeId, new Date(input.instant), heartbeat))),
  };
}

export type StreamReconciliationActivities = ReturnType<typeof createStreamReconciliationActivities>;

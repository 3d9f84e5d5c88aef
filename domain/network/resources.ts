import { BusinessError } from '../errors';

/** What a shared resource is. The database holds resources.type to this list. */
export const RESOURCE_TYPES = ['compute', 'storage', 'space', 'equipment', 'vehicle', 'skill', 'other'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/**
 * How members of the owner cooperative book it: `open` is booked on request; `approval` needs the
 * owner's decision (a proposal) even from its own members. Another cooperative's members always go
 * through a proposal every affected cooperative decides.
 */
export const ACCESS_MODELS = ['open', 'approval'] as const;
export type AccessModel = (typeof ACCESS_MODELS)[number];

/** What a booking costs: nothing, a flat amount, or an amount per started hour (µCLOUD), paid by the requesting member. */
export const COST_MODELS = ['free', 'flat', 'per_hour'] as const;
export type CostModel = (typeof COST_MODELS)[number];

/** A booking holds its slot while pending and once confirmed; the other statuses release it. */
export const BOOKING_STATUSES = ['pending', 'confirmed', 'rejected', 'cancelled', 'failed'] as const;
export type BookingStatus = (typeof BOOKING_STATUSES)[number];
export const SLOT_HOLDING_STATUSES = ['pending', 'confirmed'] as const satisfies readonly BookingStatus[];

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** One weekly window of availability, in UTC: `from` and `to` as HH:MM, `to` after `from` ("24:00" ends the day). */
export interface AvailabilityWindow {
  day: Weekday;
  from: string;
  to: string;
}

const MINUTES_PER_DAY = 1440;
export const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

function minuteOfDay(hhmm: string): number {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(hhmm);
  if (!m || (m[1] === '24' && m[2] !== '00')) throw new BusinessError('VALIDATION_ERROR', `${hhmm} is not a time of day (HH:MM)`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** A weekly schedule as half-open ranges of minutes of the week (Monday 00:00 UTC = 0), as the database stores it. */
export function scheduleRanges(windows: readonly AvailabilityWindow[]): Array<[number, number]> {
  return windows.map((w) => {
    const from = minuteOfDay(w.from);
    const to = minuteOfDay(w.to);
    if (to <= from) throw new BusinessError('VALIDATION_ERROR', `A window ends after it starts (${w.day} ${w.from}-${w.to})`);
    const day = WEEKDAYS.indexOf(w.day) * MINUTES_PER_DAY;
    return [day + from, day + to];
  });
}

/** Minute of the week of an instant (UTC, Monday = 0). */
function minuteOfWeek(at: Date): number {
  const day = (at.getUTCDay() + 6) % 7;
  return day * MINUTES_PER_DAY + at.getUTCHours() * 60 + at.getUTCMinutes();
}

/**
 * The minutes of the week a booking from `from` to `to` covers, as half-open ranges: one, or two when
 * it wraps past Sunday midnight. A booking is at most a week long, and starts and ends on whole minutes.
 */
export function weeklyRanges(from: Date, to: Date): Array<[number, number]> {
  const minutes = (to.getTime() - from.getTime()) / 60_000;
  if (!Number.isInteger(minutes) || from.getUTCSeconds() !== 0 || from.getUTCMilliseconds() !== 0) throw new BusinessError('VALIDATION_ERROR', 'A booking starts and ends on whole minutes');
  if (minutes <= 0) throw new BusinessError('VALIDATION_ERROR', 'A booking ends after it starts');
  if (minutes > MINUTES_PER_WEEK) throw new BusinessError('VALIDATION_ERROR', 'A booking is at most a week long');
  const start = minuteOfWeek(from);
  const end = start + minutes;
  return end <= MINUTES_PER_WEEK ? [[start, end]] : [[start, MINUTES_PER_WEEK], [0, end - MINUTES_PER_WEEK]].filter(([a, b]) => b! > a!) as Array<[number, number]>;
}

/** Whether the schedule's windows (joined where they touch) cover every wanted range. */
export function scheduleCovers(schedule: ReadonlyArray<[number, number]>, wanted: ReadonlyArray<[number, number]>): boolean {
  const merged: Array<[number, number]> = [];
  for (const [a, b] of [...schedule].sort((x, y) => x[0] - y[0])) {
    const last = merged.at(-1);
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  return wanted.every(([a, b]) => merged.some(([x, y]) => x <= a && b <= y));
}

/** What a booking costs under the model: per started hour, flat, or free (µCLOUD). */
export function bookingCost(model: CostModel, amount: bigint, from: Date, to: Date): bigint {
  if (model === 'free') return 0n;
  if (model === 'flat') return amount;
  const hours = BigInt(Math.ceil((to.getTime() - from.getTime()) / 3_600_000));
  return amount * hours;
}

/** A shared resource as stored. */
export interface SharedResource {
  id: string;
  cooperativeId: string;
  type: ResourceType;
  title: string;
  description: string;
  location: string;
  schedule: AvailabilityWindow[];
  accessModel: AccessModel;
  costModel: CostModel;
  /** µCLOUD: the flat price or the price per started hour (0 when free). */
  costAmount: bigint;
  createdAt: string;
}

/**
 * What the booking's settlement moved: between two ledgers, the payer's and the payee's transactions;
 * within one, the hold on the requester's wallet and the charge that consumed it.
 */
export type BookingSettlement = { outTransaction: string; inTransaction: string } | { holdId: string; transaction: string };

export interface Booking {
  id: string;
  resourceId: string;
  ownerCooperativeId: string;
  requesterCooperativeId: string;
  requesterMemberId: string;
  from: string;
  to: string;
  status: BookingStatus;
  /** µCLOUD the requester pays the owner cooperative. */
  cost: bigint;
  proposalId: string | null;
  settlement: BookingSettlement | null;
  reason: string | null;
  createdAt: string;
  decidedAt: string | null;
}

/** Whether a booking needs a decision: always between cooperatives, and within one when the owner's access model says so. */
export function needsDecision(resource: Pick<SharedResource, 'cooperativeId' | 'accessModel'>, requesterCooperativeId: string): boolean {
  return resource.cooperativeId !== requesterCooperativeId || resource.accessModel === 'approval';
}

/** Every task queue, named once: workers poll these and clients start workflows on them. */
export const TASK_QUEUES = {
  /** Ledger-facing workflows and activities. */
  main: 'coop-credits',
} as const;

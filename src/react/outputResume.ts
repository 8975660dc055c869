/**
 * @internal Where a provider keeps the resume points of streamed output (one object in its
 * `local`): the last part shown of an id, read by `useJobOutput` when it starts following and
 * written as it shows more. Empty until `useTrackedJobs` fills it with its stores, so an app
 * without tracked ids carries none of their code: output then starts at 0 and nothing is kept.
 */
export interface OutputResume {
  /** The last part shown of `id` before (e.g. before a reload); 0 when none is known. */
  lastShown?(id: string): number;
  /** Part `seq` of `id` is now shown: kept at once, then at most once per interval. */
  shown?(id: string, seq: number): void;
  /** A hook showing `id` stops (unmount, other id): keeps what it showed last and not yet written. */
  flush?(id: string): void;
}

/** @internal Makes a provider's {@link OutputResume}, empty (kept in its `local`). */
export const outputResume = (): OutputResume => ({});

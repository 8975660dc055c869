/** The event stream sends a comment this often, so proxies and clients know it is alive (ms). */
export const HEARTBEAT_INTERVAL_MS = 15_000;

const HEARTBEAT_ANNOUNCEMENT = /^heartbeat ([0-9]{1,15})$/;

/**
 * The comment text (after `: `) with which an event stream announces its
 * heartbeat interval right after connecting: `heartbeat 60000`, sent as the
 * line `: heartbeat 60000`. A client then waits three such intervals of
 * silence before taking the stream for dead.
 */
export function heartbeatAnnouncement(intervalMs: number): string {
  return `heartbeat ${Math.round(intervalMs)}`;
}

/** The interval a {@link heartbeatAnnouncement} comment announces, in ms, or `null` for any other comment. */
export function parseHeartbeatAnnouncement(comment: string): number | null {
  const match = HEARTBEAT_ANNOUNCEMENT.exec(comment);
  return match ? Number(match[1]) : null;
}

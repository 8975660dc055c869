/** The BroadcastChannel on which tabs claim the notification of a job. */
export const NOTIFICATION_CHANNEL = 'jobwatch-notifications';
/** How long a claim waits for earlier claims of other tabs before it wins, in ms. */
export const CLAIM_WINDOW_MS = 100;
/** Keys remembered per tab, oldest forgotten first. */
const MAX_REMEMBERED = 1000;

interface Claim {
  readonly at: number;
  readonly tabId: string;
}

interface ClaimMessage extends Claim {
  readonly type: 'jobwatch:claim';
  readonly key: string;
}

/** Earlier time wins; the same millisecond is broken by tab id, so every tab picks the same winner. */
const isEarlier = (a: Claim, b: Claim): boolean => a.at < b.at || (a.at === b.at && a.tabId < b.tabId);

function isClaimMessage(value: unknown): value is ClaimMessage {
  const m = value as Partial<ClaimMessage> | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    m.type === 'jobwatch:claim' &&
    typeof m.key === 'string' &&
    typeof m.tabId === 'string' &&
    typeof m.at === 'number'
  );
}

/** @internal Decides which of several tabs (or hooks) shows the notification of one settled job. */
export interface NotificationClaims {
  /** Claims `key`; calls `won` once, after {@link CLAIM_WINDOW_MS}, when no earlier claim was seen. */
  claim(key: string, won: () => void): void;
  /** Drops pending claims and closes the channel. */
  close(): void;
}

/**
 * The protocol: a claimer posts `{ key, at, tabId }` on the
 * `jobwatch-notifications` BroadcastChannel and waits {@link CLAIM_WINDOW_MS};
 * every participant remembers the earliest claim it saw per key; the earliest
 * claim wins — including against claims made much later (a tab that polls
 * more slowly and sees the same job settle 30 s after), which lose at once.
 * Without BroadcastChannel, a claim wins at once (one tab is all we know).
 */
export function createNotificationClaims(): NotificationClaims {
  const tabId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  const Channel = typeof BroadcastChannel === 'function' ? BroadcastChannel : null;
  const channel = Channel ? new Channel(NOTIFICATION_CHANNEL) : null;
  const earliest = new Map<string, Claim>();
  const timers = new Set<ReturnType<typeof setTimeout>>();

  function remember(key: string, claim: Claim): void {
    const known = earliest.get(key);
    if (known && !isEarlier(claim, known)) return;
    earliest.delete(key);
    earliest.set(key, claim);
    if (earliest.size > MAX_REMEMBERED) earliest.delete(earliest.keys().next().value as string);
  }

  const onMessage = (event: MessageEvent) => {
    if (isClaimMessage(event.data)) remember(event.data.key, { at: event.data.at, tabId: event.data.tabId });
  };
  channel?.addEventListener('message', onMessage as EventListener);

  return {
    claim(key, won) {
      const mine: Claim = { at: Date.now(), tabId };
      const known = earliest.get(key);
      if (known && isEarlier(known, mine)) return;
      remember(key, mine);
      if (!channel) return won();
      const message: ClaimMessage = { type: 'jobwatch:claim', key, ...mine };
      channel.postMessage(message);
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (earliest.get(key) === mine) won();
      }, CLAIM_WINDOW_MS);
      timers.add(timer);
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      channel?.removeEventListener('message', onMessage as EventListener);
      channel?.close();
    },
  };
}

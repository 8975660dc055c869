import type { JobClient } from '../contract/types';
import { shareClientAcrossTabs } from '../core/share/shareClientAcrossTabs';
import type { ShareAcrossTabsOptions } from '../core/share/types';
import { createNotificationClaims, type NotificationClaims } from './notificationClaims';
import type { ShareRuntime } from './shareTabs';

/**
 * The coordination code a sharing provider loads (with a dynamic import, so an app
 * that never shares does not carry it): the shared client, and cross-tab claims
 * (the notifications' claim protocol) so `onJobSettled` runs in one tab only.
 */
export function startShareRuntime(client: JobClient, options: ShareAcrossTabsOptions): ShareRuntime {
  const shared = shareClientAcrossTabs(client, options);
  // Listening from the start: a claim posted by another tab before this one listened would be missed.
  const claims: NotificationClaims = createNotificationClaims();
  return {
    shared,
    claim: claims.claim,
    close() {
      shared.close();
      claims.close();
    },
  };
}

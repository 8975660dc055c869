/** `jobwatch/core`: everything without React (see ./coreExports.ts), and tab sharing for non-React apps. */
export * from './coreExports';
export { shareClientAcrossTabs, type ShareSubscribeHint } from './share/shareClientAcrossTabs';
export {
  DEFAULT_SHARE_HEARTBEAT_MS,
  DEFAULT_SHARED_READ_TTL_MS,
  SILENT_LEADER_BEATS,
  type ShareAcrossTabsOptions,
  type ShareableJobClient,
  type ShareChannel,
  type SharedJobClient,
  type ShareLocks,
} from './share/types';

/** @internal Transitional re-export for the watcher files being split; import `../contract/retryAfter` instead. */
export * from '../contract/retryAfter';

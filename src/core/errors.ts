/** @internal Transitional re-export for the watcher files being split; import `../contract/errors` instead. */
export * from '../contract/errors';

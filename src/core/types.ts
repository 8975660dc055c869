/** @internal Transitional re-export for the watcher files being split; import `../contract/types` instead. */
export * from '../contract/types';

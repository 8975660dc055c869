/** @internal Transitional re-export for the watcher files being split; import `../contract/ordering` instead. */
export * from '../contract/ordering';

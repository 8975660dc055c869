/**
 * Every string {@link JobOutput} uses. Pass a partial object as its `labels` prop to
 * translate or reword.
 */
export interface JobOutputLabels {
  /** The log's accessible name (`aria-label`). Default `"Job output"`. */
  label: string;
  /** Alt text of a preview image whose part has no `alt`. Default `"Preview image"`. */
  image: string;
}

/** The English labels {@link JobOutput} uses unless its `labels` prop replaces them. */
export const defaultJobOutputLabels: JobOutputLabels = {
  label: 'Job output',
  image: 'Preview image',
};

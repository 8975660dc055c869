import { clsx } from 'clsx';
import { forwardRef, useEffect, useRef, useState } from 'react';
import type { CSSProperties, ForwardedRef, HTMLAttributes, ReactElement, ReactNode, RefAttributes } from 'react';
import type { JobOutputPart } from '../contract/types';
import type { JobOutputConnection } from '../core/output/types';
import { useJobOutput, type UseJobOutputOptions } from '../react/useJobOutput';
import { mergeLabels, resolve, type ValueOrFunction } from './labels';
import { defaultJobOutputLabels, type JobOutputLabels } from './outputLabels';
import { outputLayout } from './outputChunks';

/**
 * What a {@link JobOutput} shows; also its `data-state` attribute:
 * - `loading`: following, no part yet;
 * - `streaming`: parts shown, more may come;
 * - `done`: the job is terminal and its last part is shown;
 * - `error`: the last request or part failed (`error` is set; parts shown stay, and watching
 *   goes on unless the job is gone or forbidden);
 * - `empty`: nothing to show and nothing coming: no `jobId`, `enabled` is `false`, the
 *   client has no output methods, or the job finished without output.
 */
export type JobOutputState = 'loading' | 'streaming' | 'done' | 'error' | 'empty';

/** The state {@link JobOutput} passes to its `className`, `style` and `children` functions. */
export interface JobOutputRenderState {
  /** What is shown; also the `data-state` attribute. */
  state: JobOutputState;
  /** The parts in memory, in `seq` order (data parts included). */
  parts: readonly JobOutputPart[];
  /** The text parts joined. */
  text: string;
  /** No more output will come. */
  done: boolean;
  /** The last error, or `null`. */
  error: Error | null;
  /** Earlier parts are not in `parts` (see `useJobOutput`). */
  trimmed: boolean;
  /** How the output is being followed; also the `data-connection` attribute. */
  connection: JobOutputConnection;
}

/** What a `children` function of {@link JobOutput} receives. */
export interface JobOutputRenderProps extends JobOutputRenderState {
  /** All labels, the defaults merged with the `labels` prop. */
  labels: JobOutputLabels;
}

/** How {@link JobOutput} paces what screen readers hear (see its `announce` prop). */
export interface JobOutputAnnounceOptions {
  /** Text without a sentence end is announced after this long (ms). Default 2000. */
  flushAfterMs?: number;
}

/** Props of {@link JobOutput}. The options of `useJobOutput` pass through. */
export interface JobOutputProps
  extends UseJobOutputOptions,
    Omit<HTMLAttributes<HTMLDivElement>, 'children' | 'className' | 'style' | 'role'> {
  /** The job whose output to show. `null` or `undefined` shows nothing (the log stays, `empty`). */
  jobId: string | null | undefined;
  /** Replaces some or all of the default English texts (the log's name, the images' fallback alt). */
  labels?: Partial<JobOutputLabels>;
  /**
   * What screen readers hear. Default `true`: whole sentences and lines, never single tokens
   * (text is announced up to its last sentence end — `.`, `!`, `?` or `…` and a space, or a
   * newline — or after `flushAfterMs` without one, or when the output is done; the rest is
   * shown but `aria-hidden` until then). `false`: nothing is announced (`aria-live="off"`).
   */
  announce?: boolean | JobOutputAnnounceOptions;
  /** Classes added to `jobwatch-output`, or a function of the render state returning them. */
  className?: ValueOrFunction<string | undefined, JobOutputRenderState>;
  /** Inline style, or a function of the render state returning it. */
  style?: ValueOrFunction<CSSProperties | undefined, JobOutputRenderState>;
  /**
   * Replaces the default content inside the log element, which stays in place. A function
   * receives the render state (data parts included, which the default content does not show).
   */
  children?: ReactNode | ((props: JobOutputRenderProps) => ReactNode);
}

/** Text without a sentence end is announced after this long (ms), unless `announce` says otherwise. */
const DEFAULT_FLUSH_AFTER_MS = 2000;

function outputState(jobId: string | null | undefined, enabled: boolean, snapshot: ReturnType<typeof useJobOutput>): JobOutputState {
  if (!jobId || !enabled) return 'empty';
  if (snapshot.error) return 'error';
  if (!snapshot.supported) return 'empty';
  if (snapshot.done) return snapshot.parts.length > 0 ? 'done' : 'empty';
  return snapshot.parts.length > 0 ? 'streaming' : 'loading';
}

function JobOutputWithRef(props: JobOutputProps, ref: ForwardedRef<HTMLDivElement>) {
  const { jobId, maxParts, enabled, after, labels: labelOverrides, announce = true, className, style, children, ...rest } = props;
  // Absent options are `undefined` here, which the hook reads as absent.
  const snapshot = useJobOutput(jobId, { maxParts, enabled, after });
  const labels = mergeLabels(defaultJobOutputLabels, labelOverrides);
  const { parts, text, done, error, trimmed, connection } = snapshot;
  const state = outputState(jobId, enabled !== false, snapshot);
  const renderState: JobOutputRenderState = { state, parts, text, done, error, trimmed, connection };
  const announcing = announce !== false;
  // `true` and `false` have no `flushAfterMs`.
  const flushAfterMs = (announce as JobOutputAnnounceOptions).flushAfterMs ?? DEFAULT_FLUSH_AFTER_MS;

  // Text parts committed by the timer although no sentence ended: up to this `seq` (kept per job id).
  const [flushed, setFlushed] = useState<{ jobId: string; seq: number } | null>(null);
  const { items, image } = outputLayout(parts, flushed && flushed.jobId === jobId ? flushed.seq : 0, done || !announcing);
  const last = items.at(-1);
  const tail = last?.kind === 'text' && last.tail !== '' ? last : null;
  // The timer starts again when the run or its committed text changes.
  const tailFrom = tail ? `${tail.key}:${tail.chunks.at(-1)?.key}` : null;
  /** The last part of the tail now (it grows while the timer runs). */
  const tailEnd = useRef(0);
  tailEnd.current = tail ? tail.last : 0;
  useEffect(() => {
    // A tail means parts, so a job id.
    if (tailFrom === null) return;
    const timer = setTimeout(() => {
      const seq = tailEnd.current;
      // A tail always ends after the flushed parts it was laid out with: this only moves them on.
      if (seq) setFlushed({ jobId: jobId!, seq });
    }, flushAfterMs);
    return () => clearTimeout(timer);
  }, [tailFrom, jobId, flushAfterMs]);

  let content: ReactNode;
  if (typeof children === 'function') content = children({ ...renderState, labels });
  else if (children !== undefined) content = children;
  else {
    content = (
      <>
        {items.map((item) =>
          item.kind === 'log' ? (
            <div key={item.key} className="jobwatch-output-line">
              {item.text}
            </div>
          ) : (
            <span key={item.key} className="jobwatch-output-text" style={{ whiteSpace: 'pre-wrap' }}>
              {item.chunks.map((chunk) => (
                <span key={chunk.key}>{chunk.text}</span>
              ))}
              {item.tail !== '' && (
                <span aria-hidden="true" className="jobwatch-output-pending">
                  {item.tail}
                </span>
              )}
            </span>
          ),
        )}
        {image && <img key="image" className="jobwatch-output-image" src={image.url} alt={image.alt ?? labels.image} />}
      </>
    );
  }

  return (
    <div
      aria-label={labels.label}
      // Focusable, so a log that scrolls (the stylesheet's max height) can be scrolled by keyboard; `tabIndex` overrides it.
      tabIndex={0}
      {...rest}
      ref={ref}
      role="log"
      aria-live={announcing ? 'polite' : 'off'}
      className={clsx('jobwatch-output', resolve(className, renderState))}
      style={resolve(style, renderState)}
      data-state={state}
      data-connection={connection}
    >
      {content}
    </div>
  );
}

/**
 * Shows what a job produces while it runs — tokens of a text, log lines, a preview
 * image — in one `role="log"` element (`aria-live="polite"`, named "Job output" unless
 * `labels.label` or `aria-label`/`aria-labelledby` says otherwise), following it with
 * `useJobOutput`.
 *
 * Text is rendered as text, never HTML; text parts flow together (`white-space: pre-wrap`
 * on `.jobwatch-output-text`), each log part is one line (`.jobwatch-output-line`), data
 * parts are not shown (a `children` function gets them), and only the newest image is
 * shown (`.jobwatch-output-image`), and only from an `http(s):` or `data:image/…` URL,
 * with its `alt` (default "Preview image"). Screen readers hear whole sentences and lines,
 * never tokens (see `announce`); sighted users see every token as it comes.
 * `data-state` is one of {@link JobOutputState}; `data-connection` a `JobOutputConnection`.
 * The log is focusable (`tabIndex={0}`, overridable) so that, once it scrolls, it can be
 * scrolled by keyboard.
 *
 * @example
 * <JobStatus jobId={jobId} />
 * <JobOutput jobId={jobId} maxParts={2000} className="story" />
 */
export const JobOutput = /* @__PURE__ */ forwardRef(JobOutputWithRef) as (
  props: JobOutputProps & RefAttributes<HTMLDivElement>,
) => ReactElement | null;

import { defaultJobStatusIcons } from '../../src/components/icons';
import type { JobStatusIconState } from '../../src/components/icons';
import type { JobProgressState } from '../../src/components/JobProgress';
import type { JobStatusState } from '../../src/components/JobStatus';
import type { JobProgressValueTextInfo } from '../../src/components/progressLabels';
import type { JobViewState } from '../../src/components/viewState';
import { JOB_STATES, type JobState } from '../../src/core';

// The components share one view-state union (viewState.ts); the names each
// component exported before stay, as the same type (checked by `tsc --noEmit`).
describe('one view state for every job view', () => {
  it('JobStatusState, JobProgressState and the value text info are JobViewState', () => {
    expectTypeOf<JobStatusState>().toEqualTypeOf<JobViewState>();
    expectTypeOf<JobProgressState>().toEqualTypeOf<JobViewState>();
    expectTypeOf<JobProgressValueTextInfo['state']>().toEqualTypeOf<JobViewState>();
    expectTypeOf<JobViewState>().toEqualTypeOf<JobState | 'loading' | 'error' | 'idle'>();
  });

  it('JobStatus has a default icon for every view state but idle', () => {
    expectTypeOf<JobStatusIconState>().toEqualTypeOf<Exclude<JobViewState, 'idle'>>();
    expect(Object.keys(defaultJobStatusIcons).sort()).toEqual([...JOB_STATES, 'loading', 'error'].sort());
  });
});

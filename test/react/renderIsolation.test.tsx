import { act, render } from '@testing-library/react';
import { Profiler } from 'react';
import { JobStatus } from '../../src/components/JobStatus';
import { JobClientProvider } from '../../src/react/JobClientProvider';
import { createMemoryJobBackend } from '../../src/testing';
import { advance, setVisibility, testQueryClient } from '../helpers';

beforeEach(() => {
  vi.useFakeTimers();
  setVisibility('visible');
});
afterEach(() => vi.useRealTimers());

describe('render isolation: one change, one re-render', () => {
  it.each([
    ['push', true],
    ['polling', false],
  ])('re-renders only the JobStatus of the job that changed (%s)', async (_name, live) => {
    const backend = createMemoryJobBackend();
    const ids = Array.from({ length: 200 }, () => backend.create().id);
    const commits = new Map<string, number>();
    const onRender = (id: string) => commits.set(id, (commits.get(id) ?? 0) + 1);
    render(
      <JobClientProvider client={backend} queryClient={testQueryClient()}>
        {ids.map((id) => (
          <Profiler key={id} id={id} onRender={onRender}>
            <JobStatus jobId={id} live={live} />
          </Profiler>
        ))}
      </JobClientProvider>,
    );
    await advance(0);
    await advance(2000);
    commits.clear();

    const changed = ids[123]!;
    act(() => void backend.start(changed));
    await advance(2000);
    expect([...commits.keys()]).toEqual([changed]);
  });
});

import { act, render, screen } from '@testing-library/react';
import { StrictMode, type ReactNode } from 'react';
import { JobOutput } from '../../src/components/JobOutput';
import type { JobClient, JobOutputPart } from '../../src/contract/types';
import { JobClientProvider } from '../../src/react/JobClientProvider';
import { createMemoryJobIdStorage, type JobIdStorage } from '../../src/react/trackedJobsStore';
import { useTrackedJobs } from '../../src/react/useTrackedJobs';
import { advance, renderWithJobs, testQueryClient } from '../helpers';
import { outputServer } from '../core/output.fakes';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const AT = '2026-01-01T00:00:00.000Z';
const frame = () => advance(20);

/** A push client whose parts the test writes: `send(...)` numbers them and pushes them. */
function liveClient() {
  const server = outputServer();
  let seq = 0;
  const sent: JobOutputPart[] = [];
  return {
    server,
    client: server.pushClient(),
    sent,
    send(...inputs: Array<Omit<JobOutputPart, 'seq' | 'at'>>) {
      const batch = inputs.map((input) => ({ ...input, seq: ++seq, at: AT }) as JobOutputPart);
      sent.push(...batch);
      act(() => server.open().forEach((s) => s.listener.next(batch)));
    },
    raw(list: unknown[]) {
      act(() => server.open().forEach((s) => s.listener.next(list as JobOutputPart[])));
    },
    end() {
      act(() => server.open().forEach((s) => s.listener.next([], { done: true })));
    },
  };
}

const text = (t: string) => ({ kind: 'text' as const, text: t });
const log = () => screen.getByRole('log');

/**
 * Mutations of the log a screen reader would announce: text added or changed outside
 * `aria-hidden` parts, judged when each batch of mutations is delivered (after each render).
 */
function announcements(target: Element) {
  let count = 0;
  const hidden = (node: Node) => {
    const element = node.nodeType === Node.ELEMENT_NODE ? (node as Element) : node.parentElement;
    return element?.closest('[aria-hidden="true"]') != null;
  };
  const judge = (records: MutationRecord[]) => {
    for (const record of records) {
      const announced =
        record.type === 'characterData'
          ? !hidden(record.target) && (record.target.textContent ?? '') !== ''
          : [...record.addedNodes].some((node) => !hidden(node) && spokenNode(node).trim() !== '');
      if (announced) count++;
    }
  };
  const observer = new MutationObserver(judge);
  observer.observe(target, { childList: true, characterData: true, subtree: true });
  return () => {
    judge(observer.takeRecords());
    return count;
  };
}

/** What a screen reader reads of an element: its text without `aria-hidden` parts. */
function spoken(element: Element): string {
  return spokenNode(element);
}

function spokenNode(node: Node): string {
  if (node.nodeType !== Node.ELEMENT_NODE) return node.textContent ?? '';
  const clone = node.cloneNode(true) as Element;
  for (const hidden of clone.querySelectorAll('[aria-hidden="true"]')) hidden.remove();
  return clone.textContent ?? '';
}

describe('<JobOutput>', () => {
  it('is one role=log element, polite, named "Job output", with data-state loading → streaming → done', async () => {
    const live = liveClient();
    renderWithJobs(<JobOutput jobId="job-1" />, { client: live.client });
    await frame();
    expect(screen.getAllByRole('log')).toHaveLength(1);
    expect(screen.getByRole('log', { name: 'Job output' }).getAttribute('aria-live')).toBe('polite');
    expect(log().getAttribute('data-state')).toBe('loading');
    live.send(text('Hello.'));
    await frame();
    expect(log().getAttribute('data-state')).toBe('streaming');
    live.end();
    await frame();
    expect(log().getAttribute('data-state')).toBe('done');
    expect(log().textContent).toBe('Hello.');
  });

  it('is focusable by default (a log that scrolls must be scrollable by keyboard); tabIndex overrides it', async () => {
    const live = liveClient();
    const { rerender } = renderWithJobs(<JobOutput jobId="job-1" />, { client: live.client });
    await frame();
    expect(log().tabIndex).toBe(0);
    rerender(<JobOutput jobId="job-1" tabIndex={-1} />);
    expect(log().tabIndex).toBe(-1);
  });

  it('is empty without a job id, or when the job ended without output; the name can be changed', async () => {
    const live = liveClient();
    const { rerender } = renderWithJobs(<JobOutput jobId={null} labels={{ label: 'Story' }} />, { client: live.client });
    await frame();
    expect(screen.getByRole('log', { name: 'Story' }).getAttribute('data-state')).toBe('empty');
    rerender(<JobOutput jobId="job-1" aria-label="Generated story" />);
    await frame();
    live.end();
    await frame();
    expect(screen.getByRole('log', { name: 'Generated story' }).getAttribute('data-state')).toBe('empty');
  });

  it('renders text as text: markup stays literal', async () => {
    const live = liveClient();
    renderWithJobs(<JobOutput jobId="job-1" />, { client: live.client });
    await frame();
    live.send(text('<b>bold</b> <img src=x onerror=alert(1)>'), { kind: 'log', text: '<script>x()</script>' });
    await frame();
    expect(log().querySelector('b, img, script')).toBeNull();
    expect(log().textContent).toContain('<b>bold</b> <img src=x onerror=alert(1)>');
    expect(log().textContent).toContain('<script>x()</script>');
  });

  it('shows each log part as its own line and no data part', async () => {
    const live = liveClient();
    renderWithJobs(<JobOutput jobId="job-1" />, { client: live.client });
    await frame();
    live.send({ kind: 'log', text: 'step 1' }, { kind: 'data', data: { secret: 'not shown' } }, { kind: 'log', text: 'step 2' });
    await frame();
    const lines = [...log().querySelectorAll('.jobwatch-output-line')].map((line) => line.textContent);
    expect(lines).toEqual(['step 1', 'step 2']);
    expect(log().textContent).not.toContain('not shown');
  });

  it('shows only the newest image, with its alt or "Preview image"; an unsafe URL is never rendered', async () => {
    const live = liveClient();
    renderWithJobs(<JobOutput jobId="job-1" />, { client: live.client });
    await frame();
    live.send({ kind: 'image', url: 'https://example.test/a.png' });
    await frame();
    expect(screen.getByRole('img', { name: 'Preview image' }).getAttribute('src')).toBe('https://example.test/a.png');
    live.send({ kind: 'image', url: 'data:image/png;base64,AAAA', alt: 'A cat, sharper' });
    await frame();
    expect(log().querySelectorAll('img')).toHaveLength(1);
    expect(screen.getByRole('img', { name: 'A cat, sharper' }).getAttribute('src')).toBe('data:image/png;base64,AAAA');
    live.raw([{ seq: 3, kind: 'image', url: 'javascript:alert(1)', alt: 'evil', at: AT }]);
    await frame();
    expect(log().innerHTML).not.toContain('javascript:');
    expect(screen.queryByRole('img', { name: 'evil' })).toBeNull();
    expect(screen.getByRole('img', { name: 'A cat, sharper' })).toBeTruthy();
    expect(log().getAttribute('data-state')).toBe('error');
  });

  it('announces sentences, not tokens: the tail is shown but aria-hidden until a sentence ends', async () => {
    const live = liveClient();
    renderWithJobs(<JobOutput jobId="job-1" />, { client: live.client });
    await frame();
    const count = announcements(log());
    const story = 'The fox woke early. It ran to the river! Was the water cold? It was.';
    const tokens = story.split(/(?<= )/);
    for (const token of tokens) {
      live.send(text(token));
      await frame();
      // Every token is visible at once.
      expect(log().textContent).toBe(story.slice(0, live.sent.reduce((n, p) => n + p.text!.length, 0)));
    }
    expect(tokens.length).toBeGreaterThan(12);
    expect(spoken(log())).toBe('The fox woke early. It ran to the river! Was the water cold? ');
    live.end();
    await frame();
    expect(spoken(log())).toBe(story);
    // One announcement per sentence, however many tokens.
    expect(count()).toBe(4);
  });

  it('announces every token with announce={false} turned into aria-live=off (nothing announced)', async () => {
    const live = liveClient();
    renderWithJobs(<JobOutput jobId="job-1" announce={false} />, { client: live.client });
    await frame();
    live.send(text('no sentence end yet'));
    await frame();
    expect(log().getAttribute('aria-live')).toBe('off');
    expect(spoken(log())).toBe('no sentence end yet');
  });

  it('commits a tail without a sentence end after flushAfterMs', async () => {
    const live = liveClient();
    renderWithJobs(<JobOutput jobId="job-1" announce={{ flushAfterMs: 500 }} />, { client: live.client });
    await frame();
    live.send(text('Thinking'), text(' about it'));
    await frame();
    expect(spoken(log())).toBe('');
    await advance(500);
    expect(spoken(log())).toBe('Thinking about it');
    live.send(text(' more'));
    await frame();
    expect(spoken(log())).toBe('Thinking about it');
    expect(log().textContent).toBe('Thinking about it more');
  });

  it('className, style and children take values or functions of the state', async () => {
    const live = liveClient();
    renderWithJobs(
      <JobOutput
        jobId="job-1"
        className={({ state }) => `out-${state}`}
        style={({ done }) => ({ opacity: done ? 1 : 0.5 })}
        children={({ parts, text: joined, state }) => <span data-testid="custom">{`${state}:${parts.length}:${joined}`}</span>}
      />,
      { client: live.client },
    );
    await frame();
    live.send(text('a'), { kind: 'data', data: 1 });
    await frame();
    expect(log().className).toBe('jobwatch-output out-streaming');
    expect(log().style.opacity).toBe('0.5');
    expect(screen.getByTestId('custom').textContent).toBe('streaming:2:a');
  });

  it('a reload resumes after the tracked last seq (minus maxParts): no part is shown twice', async () => {
    const server = outputServer();
    const storage: JobIdStorage = createMemoryJobIdStorage();
    function Page() {
      const tracked = useTrackedJobs('writer', { storage });
      return (
        <>
          <button onClick={() => tracked.track('job-1')}>start</button>
          <JobOutput jobId={tracked.ids[0]} maxParts={5} />
        </>
      );
    }
    const load = (client: JobClient) => {
      const queryClient = testQueryClient();
      const wrapper = ({ children }: { children?: ReactNode }) => (
        <StrictMode>
          <JobClientProvider client={client} queryClient={queryClient}>
            {children}
          </JobClientProvider>
        </StrictMode>
      );
      return render(<Page />, { wrapper });
    };
    const first = load(server.pushClient());
    act(() => screen.getByText('start').click());
    await frame();
    server.grow(20);
    act(() => server.catchUp());
    await frame();
    expect(log().textContent).toBe('t16 t17 t18 t19 t20 ');
    first.unmount();

    server.grow(22);
    load(server.pushClient());
    await frame();
    expect(server.subscriptions.at(-1)!.after).toBe(15);
    act(() => server.catchUp());
    await frame();
    expect(log().textContent).toBe('t18 t19 t20 t21 t22 ');
  });
});

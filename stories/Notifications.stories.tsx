import type { Meta, StoryObj } from '@storybook/react-vite';
import { useState } from 'react';
import { expect, userEvent, waitFor, within } from 'storybook/test';
import { JobStatus, useJobNotifications } from '../src/index';
import { useStoryBackend, withJobBackend } from './support/jobwatch';
import './support/demo.css';

/**
 * Headless browsers answer permission prompts with "denied", so this story
 * stands in a small `Notification` for the real one while it is shown: the
 * flow (ask on a click, notify when a watched job settles) is the real hook's.
 */
class StandInNotification {
  static permission: NotificationPermission = 'default';
  static shown: Array<{ title: string; body?: string }> = [];
  static listeners = new Set<() => void>();
  static async requestPermission(): Promise<NotificationPermission> {
    StandInNotification.permission = 'granted';
    return 'granted';
  }
  onclick: (() => void) | null = null;
  constructor(title: string, options?: NotificationOptions) {
    StandInNotification.shown.push({ title, body: options?.body });
    StandInNotification.listeners.forEach((l) => l());
  }
  close() {}
}

function NotificationsDemo() {
  const backend = useStoryBackend();
  const notifications = useJobNotifications({ when: 'always' });
  const [jobId, setJobId] = useState<string | null>(null);
  const [, rerender] = useState(0);
  const [shown] = useState(() => {
    StandInNotification.listeners.add(() => rerender((n) => n + 1));
    return StandInNotification.shown;
  });
  return (
    <div className="jw-demo jw-app__column" style={{ maxWidth: '36rem' }}>
      <section aria-labelledby="notifications-demo-title" className="jw-card">
        <div className="jw-card__head">
          <h2 id="notifications-demo-title" className="jw-card__title">
            Background jobs
          </h2>
          <p className="jw-card__hint">
            Notifications: {notifications.supported ? 'supported' : 'not supported'}, permission {notifications.permission}
          </p>
        </div>
        <div className="jw-actions">
          <button type="button" className="jw-button jw-button--primary" onClick={() => setJobId(backend.create({ queuedMs: 300, runningMs: 800 }).id)}>
            Start a job
          </button>
          <button
            type="button"
            className="jw-button"
            onClick={() => void notifications.requestPermission()}
            disabled={notifications.permission === 'granted'}
          >
            Notify me when jobs finish
          </button>
        </div>
        <div className="jw-job">
          <div className="jw-job__status">
            <JobStatus jobId={jobId} />
          </div>
        </div>
      </section>
      <section aria-labelledby="notifications-demo-shown" className="jw-card">
        <h2 id="notifications-demo-shown" className="jw-card__title">
          Notifications shown
        </h2>
        <p className="jw-card__hint">What the browser would show (a stand-in here: headless browsers deny the prompt).</p>
        <ul aria-label="Notifications shown" className="jw-toaster__list">
          {shown.map((n, i) => (
            <li key={i} className="jw-toast" data-state="completed">
              {n.body ? `${n.title}: ${n.body}` : n.title}
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

const meta = {
  title: 'Examples/Notifications',
  component: NotificationsDemo,
  decorators: [withJobBackend],
  beforeEach() {
    const real = globalThis.Notification;
    StandInNotification.permission = 'default';
    StandInNotification.shown = [];
    StandInNotification.listeners.clear();
    globalThis.Notification = StandInNotification as unknown as typeof Notification;
    return () => {
      globalThis.Notification = real;
    };
  },
} satisfies Meta<typeof NotificationsDemo>;

export default meta;
type Story = StoryObj<typeof meta>;

/** Permission is asked only from the click; then a job that settles shows one notification. */
export const AskThenNotify: Story = {
  async play({ canvasElement }) {
    const canvas = within(canvasElement);
    await expect(canvas.getByText(/permission default/)).toBeInTheDocument();
    await userEvent.click(canvas.getByRole('button', { name: 'Start a job' }));
    await waitFor(() => expect(canvas.getByRole('status')).toHaveTextContent('Completed'), { timeout: 5000 });
    // Nothing without permission.
    await expect(canvas.getByRole('list', { name: 'Notifications shown' }).children).toHaveLength(0);

    await userEvent.click(canvas.getByRole('button', { name: 'Notify me when jobs finish' }));
    await waitFor(() => expect(canvas.getByText(/permission granted/)).toBeInTheDocument());
    await userEvent.click(canvas.getByRole('button', { name: 'Start a job' }));
    await waitFor(() => expect(canvas.getByRole('status')).toHaveTextContent('Completed'), { timeout: 5000 });
    await waitFor(() => expect(canvas.getByRole('list', { name: 'Notifications shown' }).children).toHaveLength(1), {
      timeout: 3000,
    });
    await expect(canvas.getByText('Job completed')).toBeInTheDocument();
  },
};

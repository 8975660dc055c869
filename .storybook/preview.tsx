import type { Preview } from '@storybook/react-vite';
import '../src/styles.css';

const preview: Preview = {
  parameters: {
    layout: 'padded',
    // axe-core checks every story after it renders (and after its play
    // function); with 'error' addon-vitest fails the story on any violation.
    // Don't disable rules here: fix the markup, or give one story a
    // commented a11y.config.rules exception.
    a11y: { test: 'error' },
    options: {
      // The catalogue opens on the first entry: the Introduction page. Then the
      // guides (stories/guides/*.mdx), the components (each with its Docs page
      // first), the examples that put them together, the accessibility notes. Stories tagged '!dev'
      // (instrumented variants that exist for their play functions) never show
      // in the sidebar, whatever the order.
      storySort: {
        order: [
          'Introduction',
          'Guides',
          ['Connect your API', 'Recipes', 'Streamed output', 'One connection per browser', 'Styling', 'Testing', 'Next.js and node:http', 'BullMQ', 'REST contract', '*'],
          'Components',
          ['JobStatus', ['Docs', '*', 'Cancel and retry'], 'JobProgress', 'PendingJobsBadge', 'JobList', '*'],
          'Examples',
          ['Project page', 'Project page over HTTP', 'Job history', 'Toasts', 'Notifications', '*'],
          'Accessibility',
          '*',
        ],
      },
    },
  },
};

export default preview;

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
  },
};

export default preview;

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StorybookConfig } from '@storybook/react-vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const config: StorybookConfig = {
  // The Introduction page (stories/Introduction.mdx), the guides (stories/guides/*.mdx), then every story file.
  stories: ['../stories/**/*.mdx', '../stories/**/*.stories.@(ts|tsx)'],
  addons: ['@storybook/addon-vitest', '@storybook/addon-a11y', '@storybook/addon-docs'],
  framework: { name: '@storybook/react-vite', options: {} },
  // public/ holds msw's mockServiceWorker.js once `npx msw init public --save`
  // has run; docs/api holds the API reference once `npm run docs:api` has run
  // (`npm start` and `npm run build-storybook` run it first), served as api/.
  // Storybook refuses a staticDirs entry that does not exist.
  staticDirs: [
    ...(existsSync(path.join(root, 'public')) ? ['../public'] : []),
    ...(existsSync(path.join(root, 'docs/api')) ? [{ from: '../docs/api', to: '/api' }] : []),
  ],
  core: { disableTelemetry: true, disableWhatsNewNotifications: true },
  // The catalogue is jobwatch's, not a Storybook tutorial: no onboarding checklist in the
  // sidebar, no "Onboarding guide" in the settings menu (both only ever show in `storybook dev`).
  features: { sidebarOnboardingChecklist: false, menuOnboardingChecklist: false },
};

export default config;

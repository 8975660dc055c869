import { addons } from 'storybook/manager-api';
import { create } from 'storybook/theming';

// The catalogue is jobwatch's: its name in the sidebar and the tab title, in
// the Introduction page's indigo, on Storybook's light theme.
addons.setConfig({
  theme: create({
    base: 'light',
    brandTitle: 'jobwatch',
    brandUrl: './',
    brandTarget: '_self',
    colorSecondary: '#4338ca',
  }),
});

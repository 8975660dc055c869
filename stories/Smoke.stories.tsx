import { useState } from 'react';
import type { Meta, StoryObj } from '@storybook/react-vite';
import { expect, userEvent, within } from 'storybook/test';

// Temporary smoke story: proves the Storybook + Vitest browser toolchain runs
// play functions in real Chromium. It will be replaced by real stories.
function Counter() {
  const [count, setCount] = useState(0);
  return (
    <div>
      <button type="button" onClick={() => setCount((c) => c + 1)}>
        Increment
      </button>
      <p>Clicked {count} times</p>
    </div>
  );
}

const meta = {
  title: 'Smoke/Counter',
  component: Counter,
} satisfies Meta<typeof Counter>;

export default meta;
type Story = StoryObj<typeof meta>;

export const ClickIncrements: Story = {
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement);
    await expect(canvas.getByText('Clicked 0 times')).toBeInTheDocument();
    await userEvent.click(canvas.getByRole('button', { name: 'Increment' }));
    await expect(canvas.getByText('Clicked 1 times')).toBeInTheDocument();
  },
};

import { defineConfig } from 'vitest/config';

// Tests run offline in Node with @hubspot/ui-extensions/testing (no browser, no HubSpot account).
export default defineConfig({
  esbuild: { jsx: 'automatic' },
  test: { include: ['__tests__/**/*.test.{js,jsx}'], environment: 'node' },
});

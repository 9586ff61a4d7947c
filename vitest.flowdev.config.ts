import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.ts';
export default mergeConfig(base, defineConfig({ resolve: { alias: [{ find: /^\.\/template\/index\.js$/, replacement: '/tmp/flowdev/template-stub.ts' }] } }));

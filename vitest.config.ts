import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

// Two test tiers, both run by `pnpm test`:
//
//   unit  `pnpm test:unit`  every *.test.ts that is not *.live.test.ts: in-process code only. Needs Node and the
//                           files of the repository (and ../shared/corpus); no Redis binary, no build.
//   live  `pnpm test:live`  *.live.test.ts: a test file that
//                             - starts a redis-server, cluster or sentinels (testkit's startRedis, startCluster,
//                               startSentinels, startMasterReplica),
//                             - runs a Redis binary (redis-server, redis-cli, redis-check-aof, redis-check-rdb),
//                               or asks testkit whether one is installed (redisAvailable, redisToolAvailable),
//                             - or runs built code (packages/*/dist, packages/cli/bin: the CLI binaries, examples/).
//                           Before the live tier runs, test/build-first.ts runs `tsc -b` on the packages, so it
//                           never tests a stale dist/.
//
// A helper module (not a test) that does any of that is *.live.ts, and only *.live.test.ts files import it.
// test/tiers.test.ts (unit tier) enforces all of it: a new test that starts a server is refused until it is named
// *.live.test.ts, and a *.live.test.ts that does none of these things is refused until it drops `.live`.
// Tests are type-checked by `pnpm build` (tsconfig.test.json), not by vitest.
//
// Tests import workspace packages from their TypeScript sources (the alias below), so the unit tier needs no build.
const packagesDir = fileURLToPath(new URL('./packages/', import.meta.url));
const roots = ['packages/*/test/**/', 'examples/**/', 'test/**/'];

export default defineConfig({
  resolve: {
    alias: [{ find: /^@redis-persist\/([a-z0-9-]+)$/, replacement: `${packagesDir}$1/src/index.ts` }],
  },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: roots.map((r) => `${r}*.test.ts`),
          exclude: [...configDefaults.exclude, '**/*.live.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'live',
          include: roots.map((r) => `${r}*.live.test.ts`),
          globalSetup: ['./test/build-first.ts'],
        },
      },
    ],
  },
});

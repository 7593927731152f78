/** Mocha root hooks for the integration run: the shared Redis is stopped at the end. */
import { stopSharedRedis } from './redis';

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(10000);
    await stopSharedRedis();
  },
};

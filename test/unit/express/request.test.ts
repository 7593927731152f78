import { strict as assert } from 'node:assert';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RequestState, capturedRoute, stateFor, stateOf, track, trackedCount, untrack } from '../../../agent/express/request';

describe('express/request', () => {
  afterEach(() => assert.equal(trackedCount(), 0, 'a test left a measured state behind'));

  it('stateOf makes an unmeasured state (weakly held: nothing will delete it) and returns the same one after', () => {
    const req = {};
    const s = stateOf(req);
    assert.ok(s instanceof RequestState);
    assert.equal(stateOf(req), s);
    assert.equal(stateFor(req), s);
    assert.equal(trackedCount(), 0);
    s.route = '/users/:id';
    assert.equal(capturedRoute(req), '/users/:id');
    assert.equal(capturedRoute({}), undefined);
  });

  it('track counts a measured state until untrack; it replaces an unmeasured one made before', () => {
    const req = {};
    stateOf(req).mount = '/api';
    const measured = new RequestState();
    track(req, measured);
    assert.equal(trackedCount(), 1);
    assert.equal(stateFor(req), measured);
    assert.equal(stateOf(req), measured);
    untrack(measured);
    assert.equal(trackedCount(), 0);
    untrack(measured); // twice is harmless
    assert.equal(trackedCount(), 0);
  });

  it('a state stays the request\'s after untrack, so req.route still reads what Express set', () => {
    const routed = {};
    const state = new RequestState();
    state.routeRef = { path: '/users/:id' };
    state.route = '/users/:id';
    track(routed, state);
    untrack(state);
    assert.equal(stateFor(routed), state);
    assert.equal(capturedRoute(routed), '/users/:id');
  });

  it('a state never keeps its request alive, whether its sample was taken or not', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const refs: Array<WeakRef<object>> = [];
    const states: RequestState[] = [];
    (() => {
      for (let i = 0; i < 1000; i++) {
        const req = {};
        const s = new RequestState();
        s.routeRef = { path: '/r' };
        track(req, s);
        if (i % 2 === 0) untrack(s);
        refs.push(new WeakRef(req));
        states.push(s);
      }
    })();
    await new Promise((r) => setImmediate(r));
    gc();
    assert.equal(refs.filter((r) => r.deref() !== undefined).length, 0, 'every request was collected');
    for (const s of states) untrack(s);
  });
});

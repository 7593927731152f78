import { strict as assert } from 'node:assert';
import { MAX_MEASURED, RequestState, capturedRoute, stateFor, stateOf, track, trackedCount, untrack } from '../../../agent/express/request';

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

  it('track holds a measured state until untrack; it wins over an unmeasured one made before', () => {
    const req = {};
    stateOf(req).mount = '/api';
    const measured = new RequestState();
    track(req, measured);
    assert.equal(trackedCount(), 1);
    assert.equal(stateFor(req), measured);
    assert.equal(stateOf(req), measured);
    untrack(req, measured);
    assert.equal(trackedCount(), 0);
    untrack(req, measured); // twice is harmless
  });

  it('untrack keeps a state that holds what req.route reads (weakly), and forgets one that does not', () => {
    const routed = {};
    const routedState = new RequestState();
    routedState.routeRef = { path: '/users/:id' };
    routedState.route = '/users/:id';
    track(routed, routedState);
    untrack(routed, routedState);
    assert.equal(trackedCount(), 0, 'no longer held strongly');
    assert.equal(stateFor(routed), routedState, 'req.route still reads what Express set');
    assert.equal(capturedRoute(routed), '/users/:id');

    const unrouted = {};
    const unroutedState = new RequestState();
    track(unrouted, unroutedState);
    untrack(unrouted, unroutedState);
    assert.equal(stateFor(unrouted), undefined);
  });

  it(`holds at most MAX_MEASURED (${MAX_MEASURED}) states strongly; beyond that they are still found`, () => {
    const reqs = Array.from({ length: MAX_MEASURED }, () => ({}));
    for (const r of reqs) track(r, new RequestState());
    assert.equal(trackedCount(), MAX_MEASURED);
    const extra = {};
    const s = new RequestState();
    track(extra, s);
    assert.equal(trackedCount(), MAX_MEASURED, 'the map does not grow past its bound');
    assert.equal(stateFor(extra), s);
    for (const r of reqs) untrack(r, new RequestState());
    untrack(extra, s);
  });
});

import assert from 'node:assert/strict';
import type { EndpointKind, SourceLocation } from '../../../protocol';
import { Diagnostics, silentLogger } from '../../../agent/log';
import { EndpointRegistry, OVERFLOW_ID, type RegistryEntry } from '../../../agent/metrics/registry';

class Entry implements RegistryEntry {
  registered = false;
  location: SourceLocation | undefined;
  handlerLocation: SourceLocation | undefined;
  removed = false;
  constructor(
    readonly id: string,
    readonly method: string,
    readonly route: string,
    readonly kind: EndpointKind,
  ) {}
}

function registry(indexIds: boolean, max = 4): EndpointRegistry<Entry> {
  const hooks = { create: (id: string, method: string, route: string, kind: EndpointKind) => new Entry(id, method, route, kind), touch() {}, remove() {} };
  return new EndpointRegistry<Entry>(max, hooks, new Diagnostics(silentLogger), 0, indexIds);
}

/** The same endpoints in both registries: routes, an unmatched one, a custom timing, `ALL`, and past the cap the overflow bucket. */
function fill(r: EndpointRegistry<Entry>): void {
  r.register({ method: 'GET', route: '/users/:id' });
  r.register({ method: 'ALL', route: '/any' });
  r.forRequest('POST', undefined);
  r.forCustom('render page');
  r.forRequest('DELETE', '/users/:id'); // past the cap of 4: the overflow bucket
}

describe('EndpointRegistry without an index by id (the app thread\'s)', () => {
  it('finds every endpoint by its id as the indexed registry does, and says which ids it does not know', () => {
    const indexed = registry(true);
    const light = registry(false);
    fill(indexed);
    fill(light);
    const ids = [...indexed.values()].map((e) => e.id);
    assert.deepEqual(ids, ['GET /users/:id', 'ALL /any', 'POST (unmatched)', 'CUSTOM render page', OVERFLOW_ID]);
    for (const id of ids) {
      const e = light.get(id);
      assert.equal(e?.id, id, id);
      assert.equal(e.kind, indexed.get(id)!.kind, id);
      assert.ok(light.has(id));
    }
    for (const id of ['GET /nope', 'GET', 'PATCH (unmatched)', 'GET (unmatched)', '']) assert.equal(light.get(id), undefined, id);
    assert.equal(light.size, indexed.size);
    assert.deepEqual(new Set([...light.values()].map((e) => e.id)), new Set(ids));
  });

  it('forgets a removed endpoint: get, has, size and values no longer show it', () => {
    const light = registry(false);
    fill(light);
    const size = light.size;
    for (const id of ['GET /users/:id', 'POST (unmatched)', OVERFLOW_ID]) {
      light.remove(light.get(id)!);
      assert.equal(light.get(id), undefined, id);
      assert.equal(light.has(id), false, id);
    }
    assert.equal(light.size, size - 3);
    assert.deepEqual([...light.values()].map((e) => e.id).sort(), ['ALL /any', 'CUSTOM render page']);
  });
});

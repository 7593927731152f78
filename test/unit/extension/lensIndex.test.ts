import assert from 'node:assert/strict';
import { resolvePathMappings } from '../../../extension/core/discovery';
import { LensIndex } from '../../../extension/core/lensIndex';
import { endpoint } from './helpers';

const at = (file: string, line: number) => ({ file, line, column: 1 });
const ids = (index: LensIndex, file: string) => index.anchorsFor(file).map((a) => `${a.agentId}:${a.endpointId}@${a.line}${a.kind === 'handler' ? 'h' : ''}`);

describe('extension LensIndex (endpoint → files with lenses)', () => {
  function indexed() {
    const index = new LensIndex();
    index.setMappings([]);
    const files = index.setAgent('a', [
      endpoint({ id: 'A', location: at('/src/a.ts', 5) }),
      endpoint({ id: 'B', location: at('/src/a.ts', 9), handlerLocation: at('/src/h.ts', 2) }),
      endpoint({ id: 'C', location: at('/src/c.ts', 3) }),
      endpoint({ id: 'D' }),
    ]);
    return { index, files };
  }

  it('a snapshot anchors each endpoint in its registration file, and its handler file when elsewhere', () => {
    const { index, files } = indexed();
    assert.deepEqual([...files].sort(), ['/src/a.ts', '/src/c.ts', '/src/h.ts']);
    assert.deepEqual(ids(index, '/src/a.ts'), ['a:A@4', 'a:B@8']);
    assert.deepEqual(ids(index, '/src/h.ts'), ['a:B@1h']);
  });

  it('a delta with new figures names only the files showing the endpoints it touched', () => {
    const { index } = indexed();
    assert.deepEqual([...index.applyDelta('a', { time: 1, endpoints: [endpoint({ id: 'C', count: 9, location: at('/src/c.ts', 3) })] })], ['/src/c.ts']);
    assert.deepEqual([...index.applyDelta('a', { time: 2, endpoints: [endpoint({ id: 'B', count: 9, location: at('/src/a.ts', 9), handlerLocation: at('/src/h.ts', 2) })] })].sort(), ['/src/a.ts', '/src/h.ts']);
    assert.deepEqual([...index.applyDelta('a', { time: 3, endpoints: [endpoint({ id: 'D', count: 9 })] })], [], 'an endpoint without a location shows no lens');
    assert.deepEqual([...index.applyDelta('other', { time: 3, endpoints: [endpoint({ id: 'C' })] })], [], 'an agent not indexed');
    assert.deepEqual(ids(index, '/src/a.ts'), ['a:A@4', 'a:B@8'], 'anchors unchanged by figures');
  });

  it('a new, moved or removed endpoint re-anchors only itself', () => {
    const { index } = indexed();
    const files = index.applyDelta('a', { time: 1, endpoints: [endpoint({ id: 'E', location: at('/src/e.ts', 1) }), endpoint({ id: 'A', location: at('/src/c.ts', 20) })], removedEndpoints: ['B'] });
    assert.deepEqual([...files].sort(), ['/src/a.ts', '/src/c.ts', '/src/e.ts', '/src/h.ts']);
    assert.deepEqual(ids(index, '/src/a.ts'), []);
    assert.deepEqual(ids(index, '/src/h.ts'), []);
    assert.deepEqual(ids(index, '/src/c.ts'), ['a:C@2', 'a:A@19']);
    assert.deepEqual(ids(index, '/src/e.ts'), ['a:E@0']);
  });

  it('agents are kept apart; removing one forgets only its anchors', () => {
    const { index } = indexed();
    index.setAgent('b', [endpoint({ id: 'A', location: at('/src/a.ts', 7) })]);
    assert.deepEqual(ids(index, '/src/a.ts'), ['a:A@4', 'a:B@8', 'b:A@6']);
    assert.deepEqual([...index.applyDelta('b', { time: 1, removedEndpoints: ['A'] })], ['/src/a.ts']);
    assert.deepEqual(ids(index, '/src/a.ts'), ['a:A@4', 'a:B@8']);
    assert.deepEqual([...index.removeAgent('a')].sort(), ['/src/a.ts', '/src/c.ts', '/src/h.ts']);
    assert.deepEqual(ids(index, '/src/a.ts'), []);
    assert.deepEqual(index.agentIds(), ['b']);
  });

  it('path mappings and file keys apply to every anchor', () => {
    const index = new LensIndex((f) => f.toLowerCase());
    index.setMappings(resolvePathMappings({ '/app': '/Home/Me/Shop' }, undefined));
    index.setAgent('a', [endpoint({ id: 'A', location: at('/app/Routes.ts', 3) })]);
    assert.deepEqual(ids(index, '/home/me/shop/routes.ts'), ['a:A@2']);
    assert.equal(index.anchorsFor('/home/me/shop/routes.ts')[0]!.file, '/Home/Me/Shop/Routes.ts');
  });
});

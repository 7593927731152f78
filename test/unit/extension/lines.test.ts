import assert from 'node:assert/strict';
import { LineTracker, type TextChange, lensAnchors, shiftLineForChanges } from '../../../extension/core/lines';
import { resolvePathMappings } from '../../../extension/core/discovery';
import { endpoint } from './helpers';

const ins = (line: number, ch: number, text: string): TextChange => ({ startLine: line, startCharacter: ch, endLine: line, endCharacter: ch, text });
const del = (l1: number, c1: number, l2: number, c2: number): TextChange => ({ startLine: l1, startCharacter: c1, endLine: l2, endCharacter: c2, text: '' });

describe('extension route → source line mapping', () => {
  it('lensAnchors: the registration of every route (count 0 too), and the handler when it is elsewhere; paths mapped', () => {
    const m = resolvePathMappings({ '/app': '/home/me/shop' }, undefined);
    const anchors = lensAnchors(
      [
        endpoint({ id: 'A', count: 0, location: { file: '/app/a.ts', line: 5, column: 1 } }),
        endpoint({ id: 'B', location: { file: '/app/a.ts', line: 9, column: 1 }, handlerLocation: { file: '/app/h.ts', line: 2, column: 1 } }),
        endpoint({ id: 'C', location: { file: '/app/a.ts', line: 12, column: 1 }, handlerLocation: { file: '/app/a.ts', line: 12, column: 1 } }),
        endpoint({ id: 'D' }),
      ],
      m,
    );
    assert.deepEqual(anchors.map((a) => [a.endpointId, a.file, a.line, a.kind]), [
      ['A', '/home/me/shop/a.ts', 4, 'route'],
      ['B', '/home/me/shop/a.ts', 8, 'route'],
      ['B', '/home/me/shop/h.ts', 1, 'handler'],
      ['C', '/home/me/shop/a.ts', 11, 'route'],
    ]);
  });

  it('shifts lines for insertions and deletions above, and leaves lines above an edit alone', () => {
    assert.equal(shiftLineForChanges(10, [ins(0, 0, 'a\nb\n')]), 12);
    assert.equal(shiftLineForChanges(10, [ins(10, 0, '// c\n')]), 11, 'whole line inserted at the start of the tracked line');
    assert.equal(shiftLineForChanges(10, [ins(10, 4, 'x')]), 10, 'typing on the line');
    assert.equal(shiftLineForChanges(10, [ins(12, 0, 'a\n\n')]), 10, 'below');
    assert.equal(shiftLineForChanges(10, [del(2, 0, 5, 0)]), 7);
    assert.equal(shiftLineForChanges(10, [del(8, 3, 12, 0)]), 8, 'inside a deleted range: to where it starts');
    assert.equal(shiftLineForChanges(10, [ins(9, 5, '\n')]), 11, 'a line split above');
  });

  it('applies several changes of one event (pre-edit coordinates) correctly', () => {
    assert.equal(shiftLineForChanges(10, [ins(1, 0, 'a\n'), ins(20, 0, 'b\n'), del(3, 0, 4, 0)]), 10);
    assert.equal(shiftLineForChanges(10, [ins(1, 0, 'a\n'), ins(5, 0, 'b\nc\n')]), 13);
  });

  it('LineTracker follows edits per document and resets', () => {
    const t = new LineTracker();
    const [a] = lensAnchors([endpoint({ id: 'A', location: { file: '/f.ts', line: 5, column: 1 } })], []);
    t.onEdit('/f.ts', [a], [ins(0, 0, '\n\n')]);
    t.onEdit('/f.ts', [a], [ins(0, 0, '\n')]);
    assert.equal(t.lineOf('/f.ts', a), 7);
    assert.equal(t.lineOf('/other.ts', a), 4);
    t.reset('/f.ts');
    assert.equal(t.lineOf('/f.ts', a), 4);
    assert.equal(t.trackedDocuments, 0);
  });
});

import assert from 'node:assert/strict';
import { MAX_QUERY, httpName, keyShape, normaliseQuery, redisName } from '../../../agent/spans/normalize';

describe('normaliseQuery', () => {
  it('replaces string, number, hex and boolean literals with ?', () => {
    assert.equal(
      normaliseQuery("SELECT * FROM items WHERE order_id = 42 AND name = 'o''brien' AND price > -3.5e2 AND flag = true AND h = 0xFF"),
      'SELECT * FROM items WHERE order_id = ? AND name = ? AND price > ? AND flag = ? AND h = ?',
    );
  });
  it('keeps placeholders, identifiers with digits and double-quoted identifiers', () => {
    assert.equal(normaliseQuery('SELECT "t1"."col2" FROM t1 WHERE id = $1 AND x = ? AND y = :name'), 'SELECT "t1"."col2" FROM t1 WHERE id = $1 AND x = ? AND y = :name');
  });
  it('folds IN lists, drops comments and collapses whitespace', () => {
    assert.equal(normaliseQuery('SELECT a\n  FROM b -- by id\n WHERE id IN (1, 2,3) /* x */'), 'SELECT a FROM b WHERE id IN (?)');
  });
  it('replaces dollar-quoted strings and escaped quotes', () => {
    assert.equal(normaliseQuery("SELECT $$secret$$, $tag$also secret$tag$, 'it\\'s'"), 'SELECT ?, ?, ?');
  });
  it('caps the length', () => {
    const q = normaliseQuery(`SELECT ${'column_name, '.repeat(100)} FROM t`);
    assert.equal(q.length, MAX_QUERY);
    assert.ok(q.endsWith('…'));
  });
  it('never throws on a non-string', () => {
    assert.equal(normaliseQuery(undefined), '(query)');
  });
});

describe('redisName, keyShape and httpName', () => {
  it('keeps the command and the key shape only', () => {
    assert.equal(redisName('get', ['users:42:profile']), 'GET users:?:profile');
    assert.equal(redisName('set', ['session:550e8400-e29b-41d4-a716-446655440000', 'secret']), 'SET session:?');
    assert.equal(redisName('auth', ['password']), 'AUTH');
    assert.equal(redisName('ping', []), 'PING');
  });
  it('shapes hex ids and digit runs', () => {
    assert.equal(keyShape('blob:0123456789abcdef0123'), 'blob:?');
  });
  it('drops the query string and shapes ids in the path', () => {
    assert.equal(httpName('get', 'api.example.com:8080', '/users/42/orders?token=secret'), 'GET api.example.com:8080/users/?/orders');
    assert.equal(httpName('POST', 'h', '/v2/items/550e8400-e29b-41d4-a716-446655440000'), 'POST h/v2/items/?');
  });
});

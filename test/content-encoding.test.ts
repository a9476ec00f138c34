import { test } from 'node:test';
import assert from 'node:assert/strict';
import { negotiateEncoding } from '../src/util/content-encoding.js';

test('the encoding a worker compresses with follows Accept-Encoding: br first, then gzip, q=0 refuses, none or unknown is identity', () => {
  assert.equal(negotiateEncoding('gzip, deflate, br, zstd'), 'br');
  assert.equal(negotiateEncoding('gzip, deflate'), 'gzip');
  assert.equal(negotiateEncoding('br;q=0, gzip;q=0.5'), 'gzip');
  assert.equal(negotiateEncoding('*'), 'br');
  assert.equal(negotiateEncoding('*;q=0, gzip'), 'gzip');
  assert.equal(negotiateEncoding('deflate'), 'identity');
  assert.equal(negotiateEncoding('identity'), 'identity');
  assert.equal(negotiateEncoding(''), 'identity');
  assert.equal(negotiateEncoding(undefined), 'identity');
  assert.equal(negotiateEncoding(' GZIP ; Q=1 '), 'gzip');
});

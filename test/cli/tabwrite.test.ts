import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tabwrite } from '../../src/cli/certs.js';

test('tabwrite pads cells by code points, as Go counts runes: an astral character is one, a lone surrogate one', () => {
  const out = tabwrite(['NAME\tX\tEND', '\u{1F600}\u{1F600}\tyy\tz', '\ud800\tq\tr'], { minwidth: 0, padding: 1 });
  assert.equal(out, ['NAME X  END', '\u{1F600}\u{1F600}   yy z', '\ud800    q  r', ''].join('\n'));
});

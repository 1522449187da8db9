import { describe, expect, it } from 'vitest';
import { asText, errorText, titleOf } from './text';
import { bucketLabel, filterLabel, metricLabel } from './vis';

describe('asText', () => {
  it('shows any JSON value as text without throwing', () => {
    expect(asText('x')).toBe('x');
    expect(asText(42)).toBe('42');
    expect(asText(false)).toBe('false');
    expect(asText(null)).toBe('');
    expect(asText(undefined, '—')).toBe('—');
    expect(asText({ a: 1 })).toBe('{"a":1}');
    expect(asText([1, 'b'])).toBe('[1,"b"]');
    const cyclic: any = {};
    cyclic.self = cyclic;
    expect(asText(cyclic, '?')).toBe('?');
    expect(asText(Object.create(null))).toBe('{}');
    expect(asText(Symbol('s'))).toBe('Symbol(s)');
  });
  it('reads messages of anything thrown', () => {
    expect(errorText(new Error('boom'))).toBe('boom');
    expect(errorText({ message: 7 })).toBe('7');
    expect(errorText('plain')).toBe('plain');
    expect(errorText(undefined)).toBe('unknown error');
  });
});

describe('labels from hostile visStates', () => {
  it('are strings whatever customLabel and field hold', () => {
    expect(metricLabel({ id: '1', type: 'count', schema: 'metric', params: { customLabel: { x: 1 } } })).toBe('{"x":1}');
    expect(metricLabel({ id: '1', type: 'sum', schema: 'metric', params: { customLabel: 5, field: 'b' } })).toBe('5');
    expect(metricLabel({ id: '1', type: 'sum', schema: 'metric', params: null })).toBe('Sum of ');
    expect(bucketLabel({ id: '2', type: 'terms', schema: 'bucket', params: { customLabel: ['a'] } })).toBe('["a"]');
    expect(bucketLabel({ id: '2', type: 'terms', schema: 'bucket', params: null })).toBe(': Descending');
    expect(bucketLabel({ id: '2', type: 'weird', schema: 'bucket', params: { field: 3 } })).toBe('3');
    expect(filterLabel({ label: 12, input: { query: 'a' } })).toBe('12');
    expect(filterLabel({ label: '', input: { query: 'a' } })).toBe('a');
  });
});

describe('titleOf', () => {
  it('is text for any title, and sorts', () => {
    const objs = [
      { id: 'a', attributes: { title: 42 } },
      { id: 'b', attributes: { title: { en: 'x' } } },
      { id: 'c', attributes: null },
      { id: 'd', attributes: { url: '/app/x' } },
      { id: 'e', attributes: { title: 'Zeta' } },
    ];
    expect(objs.map(titleOf)).toEqual(['42', '{"en":"x"}', 'c', '/app/x', 'Zeta']);
    expect(() => objs.map(titleOf).sort((x, y) => x.localeCompare(y))).not.toThrow();
  });
});

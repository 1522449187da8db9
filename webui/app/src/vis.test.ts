import { describe, expect, it } from 'vitest';
import { buildQuery, controlFilter, plan, sortRows, tabify } from './vis';

const aggs = [
  { id: '1', enabled: true, type: 'count', schema: 'metric', params: {} },
  { id: '2', enabled: true, type: 'date_histogram', schema: 'segment', params: { field: '@timestamp', interval: 'auto' } },
  {
    id: '3',
    enabled: true,
    type: 'filters',
    schema: 'group',
    params: {
      filters: [
        { input: { query: 'status:[200 TO 299]', language: 'lucene' }, label: '200s' },
        { input: { query: 'status >= 400', language: 'kuery' }, label: '' },
      ],
    },
  },
];

describe('plan and tabify', () => {
  it('nests buckets and flattens the response', () => {
    const p = plan(aggs, 15 * 60_000);
    expect(p.aggs).toEqual({
      '2': {
        date_histogram: { field: '@timestamp', fixed_interval: '30s', min_doc_count: 1 },
        aggs: {
          '3': {
            filters: {
              filters: {
                '200s': { query_string: { query: 'status:[200 TO 299]', analyze_wildcard: true } },
                'status >= 400': { kql: { query: 'status >= 400' } },
              },
            },
          },
        },
      },
    });
    const resp = {
      hits: { total: { value: 3 } },
      aggregations: {
        '2': {
          buckets: [
            { key: 1000, doc_count: 3, '3': { buckets: { 'status >= 400': { doc_count: 1 }, '200s': { doc_count: 2 } } } },
          ],
        },
      },
    };
    const t = tabify(resp, p);
    expect(t.columns.map((c) => c.label)).toEqual(['@timestamp per 30 seconds', 'Filters', 'Count']);
    expect(t.rows).toEqual([
      [1000, '200s', 2],
      [1000, 'status >= 400', 1],
    ]);
  });
  it('orders terms by a metric and reads metric values', () => {
    const p = plan(
      [
        { id: '1', type: 'sum', schema: 'metric', params: { field: 'bytes' } },
        { id: '2', type: 'terms', schema: 'bucket', params: { field: 'url', orderBy: '1', order: 'desc', size: 3 } },
      ],
      1,
    );
    expect(p.aggs).toEqual({
      '2': { terms: { field: 'url', size: 3, order: { '1': 'desc' } }, aggs: { '1': { sum: { field: 'bytes' } } } },
    });
    const t = tabify({ hits: { total: 5 }, aggregations: { '2': { buckets: [{ key: '/a', doc_count: 2, '1': { value: 10 } }] } } }, p);
    expect(t.rows).toEqual([['/a', 10]]);
  });
  it('root metrics without buckets', () => {
    const p = plan([{ id: '1', type: 'count', schema: 'metric', params: {} }], 1);
    expect(p.aggs).toBeUndefined();
    expect(tabify({ hits: { total: { value: 42 } } }, p).rows).toEqual([[42]]);
  });
  it('builds the query from time, KQL, Lucene and filters', () => {
    const q = buildQuery({
      timeField: 't',
      fromMs: 0,
      toMs: 1000,
      queries: [{ query: 'a:1', language: 'kuery' }, { query: '', language: 'lucene' }, { query: 'b:2', language: 'lucene' }],
      filters: [
        { meta: { negate: true }, query: { match_phrase: { c: 'x' } } },
        { meta: { disabled: true }, query: { match_phrase: { d: 'y' } } },
      ],
    });
    expect(q).toEqual({
      bool: {
        filter: [
          { range: { t: { gte: '1970-01-01T00:00:00.000Z', lte: '1970-01-01T00:00:01.000Z' } } },
          { kql: { query: 'a:1' } },
          { query_string: { query: 'b:2', analyze_wildcard: true } },
        ],
        must_not: [{ match_phrase: { c: 'x' } }],
      },
    });
  });
});

describe('sortRows', () => {
  const rows = [
    ['/b', 2],
    ['/A', 1],
    [null, 3],
    ['/a', 1],
  ];
  it('orders by one column as lodash orderBy does, empty values last', () => {
    expect(sortRows(rows, { colIndex: 0, direction: 'asc' }).map((r) => r[0])).toEqual(['/A', '/a', '/b', null]);
    expect(sortRows(rows, { colIndex: 1, direction: 'desc' }).map((r) => r[1])).toEqual([3, 2, 1, 1]);
    expect(sortRows(rows, null)).toBe(rows);
  });
});

describe('controlFilter', () => {
  const control = { id: '1', fieldName: 'http.response.status_code' };
  it('builds OSD phrase and phrases filters', () => {
    expect(controlFilter(control, [])).toBeNull();
    expect(controlFilter(control, [404], 'ip').query).toEqual({ match_phrase: { 'http.response.status_code': 404 } });
    const f = controlFilter(control, [404, 500], 'ip');
    expect(f.meta).toMatchObject({ type: 'phrases', params: [404, 500], controlledBy: '1', index: 'ip' });
    expect(f.query.bool.should).toHaveLength(2);
  });
});

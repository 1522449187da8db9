import { describe, expect, it } from 'vitest';
import { autoInterval, dateInterval, formatG, parseDateMath, parseG } from './time';

describe('time', () => {
  it('auto interval like OSD', () => {
    expect(autoInterval(15 * 60_000).es).toEqual({ fixed_interval: '30s' });
    expect(autoInterval(15 * 60_000).label).toBe('30 seconds');
    expect(autoInterval(3_600_000).es).toEqual({ fixed_interval: '1m' });
    expect(autoInterval(86_400_000).es).toEqual({ fixed_interval: '30m' });
    expect(autoInterval(7 * 86_400_000).es).toEqual({ fixed_interval: '3h' });
    expect(autoInterval(30 * 86_400_000).es).toEqual({ fixed_interval: '12h' });
    expect(autoInterval(90 * 86_400_000).es).toEqual({ fixed_interval: '1d' });
  });
  it('manual intervals', () => {
    expect(dateInterval('m', 1).es).toEqual({ fixed_interval: '1m' });
    expect(dateInterval('M', 1).es).toEqual({ calendar_interval: '1M' });
  });
  it('date math', () => {
    const now = Date.UTC(2024, 0, 10, 12, 0, 0);
    expect(parseDateMath('now-15m', now)).toBe(now - 15 * 60_000);
    expect(parseDateMath('2024-01-01T00:00:00.000Z', now)).toBe(Date.UTC(2024, 0, 1));
  });
  it('_g round trip', () => {
    expect(formatG({ from: 'now-15m', to: 'now' })).toBe('(time:(from:now-15m,to:now))');
    const abs = { from: '2024-01-01T00:00:00.000Z', to: '2024-01-02T00:00:00.000Z' };
    expect(formatG(abs)).toBe("(time:(from:'2024-01-01T00:00:00.000Z',to:'2024-01-02T00:00:00.000Z'))");
    expect(parseG(formatG(abs))).toEqual(abs);
    expect(parseG('(filters:!(),refreshInterval:(pause:!t,value:0),time:(from:now-90d,to:now))')).toEqual({
      from: 'now-90d',
      to: 'now',
    });
  });
});

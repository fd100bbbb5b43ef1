import { describe, expect, it } from 'vitest';
import { ExpositionError, parseBound, parseExposition } from './exposition.ts';

describe('parseExposition', () => {
  it('reads counters and histogram series with labels, skipping comments and blank lines', () => {
    const text = [
      '# HELP istio_requests_total requests',
      '# TYPE istio_requests_total counter',
      'istio_requests_total{reporter="destination",response_code="200"} 17',
      '',
      'istio_request_duration_milliseconds_bucket{le="0.5",reporter="destination"} 3',
      'istio_request_duration_milliseconds_bucket{le="+Inf",reporter="destination"} 9',
      'istio_request_duration_milliseconds_sum{reporter="destination"} 12.75 1700000000000',
      'process_start_time_seconds 1.7e9',
    ].join('\n');
    const samples = parseExposition(text);
    expect(samples).toEqual([
      { name: 'istio_requests_total', labels: { reporter: 'destination', response_code: '200' }, value: 17 },
      { name: 'istio_request_duration_milliseconds_bucket', labels: { le: '0.5', reporter: 'destination' }, value: 3 },
      { name: 'istio_request_duration_milliseconds_bucket', labels: { le: '+Inf', reporter: 'destination' }, value: 9 },
      { name: 'istio_request_duration_milliseconds_sum', labels: { reporter: 'destination' }, value: 12.75 },
      { name: 'process_start_time_seconds', labels: {}, value: 1.7e9 },
    ]);
  });

  it('unescapes label values and accepts a trailing comma, spaces and CRLF', () => {
    const text = 'm{a="quote \\" back \\\\ nl \\n", b = "x" , } 1\r\n';
    expect(parseExposition(text)).toEqual([{ name: 'm', labels: { a: 'quote " back \\ nl \n', b: 'x' }, value: 1 }]);
  });

  it('reads NaN and infinities', () => {
    const [a, b, c] = parseExposition('a NaN\nb +Inf\nc -Inf\n');
    expect(a!.value).toBeNaN();
    expect(b!.value).toBe(Infinity);
    expect(c!.value).toBe(-Infinity);
  });

  it('skips metrics the filter rejects without parsing their labels', () => {
    const text = 'other{broken 1\nistio_requests_total 4\n';
    expect(parseExposition(text, (n) => n === 'istio_requests_total')).toEqual([
      { name: 'istio_requests_total', labels: {}, value: 4 },
    ]);
  });

  it('rejects malformed lines, naming the line', () => {
    expect(() => parseExposition('ok 1\nm{a="x} 1')).toThrow(ExpositionError);
    expect(() => parseExposition('ok 1\nm{a="x} 1')).toThrow(/line 2: unterminated value for label a/);
    expect(() => parseExposition('m{a="x"} one')).toThrow(/line 1: metric m: expected a number, got "one"/);
    expect(() => parseExposition('m{a=x} 1')).toThrow(/expected a quoted value for label a/);
    expect(() => parseExposition('m 1\n{a="b"} 1')).toThrow(/line 2: expected a metric name/);
  });

  it('parses bucket bounds', () => {
    expect(parseBound('+Inf')).toBe(Infinity);
    expect(parseBound('2.5')).toBe(2.5);
    expect(parseBound('abc')).toBeUndefined();
  });
});

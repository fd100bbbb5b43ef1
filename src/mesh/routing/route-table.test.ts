import { describe, expect, it, vi } from 'vitest';
import { seededRandom } from '../../core/random.ts';
import { ConfigError } from '../../core/errors.ts';
import type { IDestinationRule, IVirtualService } from '../../manifests/types.ts';
import type { MeshEndpoint, ProxyConfig } from '../config.ts';
import { compileRouteTable, type RouteRequest } from './route-table.ts';

// Fixtures shaped like Istio's Bookinfo samples (samples/bookinfo/networking/*.yaml): reviews v1..v3
// and ratings v1, each version one Deployment labelled `version`.
function endpoint(service: string, version: string, replica = 0): MeshEndpoint {
  return {
    workload: `${service}-${version}`,
    service,
    version,
    namespace: 'default',
    serviceAccount: `bookinfo-${service}`,
    labels: { app: service, version },
    url: `http://127.0.0.1:${10_000 + replica}/${service}-${version}`,
  };
}

const ENDPOINTS = [
  endpoint('productpage', 'v1'),
  endpoint('reviews', 'v1'),
  endpoint('reviews', 'v2'),
  endpoint('reviews', 'v3'),
  endpoint('ratings', 'v1'),
];

function destinationRule(
  host: string,
  versions: string[],
  simple?: 'ROUND_ROBIN' | 'RANDOM' | 'LEAST_REQUEST',
): IDestinationRule {
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'DestinationRule',
    metadata: { name: host },
    spec: {
      host,
      ...(simple ? { trafficPolicy: { loadBalancer: { simple } } } : {}),
      subsets: versions.map((v) => ({ name: v, labels: { version: v } })),
    },
  } as IDestinationRule;
}

const RULES = [destinationRule('reviews', ['v1', 'v2', 'v3']), destinationRule('ratings', ['v1'])];

function virtualService(name: string, spec: Record<string, unknown>): IVirtualService {
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    metadata: { name },
    spec,
  } as IVirtualService;
}

function config(virtualServices: IVirtualService[], extra: Partial<ProxyConfig> = {}): ProxyConfig {
  return {
    virtualServices,
    destinationRules: RULES,
    authorizationPolicies: [],
    gatewayNames: ['bookinfo-gateway'],
    services: [],
    endpoints: ENDPOINTS,
    ...extra,
  };
}

function request(host: string, headers: Record<string, string> = {}, uri = '/', method = 'GET'): RouteRequest {
  return { context: 'mesh', host, method, uri, headers, sourceLabels: { app: 'productpage', version: 'v1' } };
}

// virtual-service-reviews-test-v2.yaml: jason sees reviews v2, everybody else v1.
const reviewsJasonToV2 = virtualService('reviews', {
  hosts: ['reviews'],
  http: [
    {
      match: [{ headers: { 'end-user': { exact: 'jason' } } }],
      route: [{ destination: { host: 'reviews', subset: 'v2' } }],
    },
    { route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
  ],
});

describe('route table: Bookinfo routing', () => {
  it('routes an exact header match to its subset and everyone else to the catch-all', () => {
    const table = compileRouteTable(config([reviewsJasonToV2]));
    expect(table.resolve(request('reviews', { 'end-user': 'jason' }))?.subset).toBe('v2');
    expect(table.resolve(request('reviews', { 'end-user': 'Jason' }))?.subset).toBe('v1');
    expect(table.resolve(request('reviews', { 'end-user': 'jason2' }))?.subset).toBe('v1');
    expect(table.resolve(request('reviews'))?.subset).toBe('v1');
    const decision = table.resolve(request('reviews.default.svc.cluster.local', { 'end-user': 'jason' }));
    expect(decision?.cluster.endpoints.map((e) => e.workload)).toEqual(['reviews-v2']);
  });

  it('splits a weighted route in proportion to the weights (virtual-service-reviews-50-v3.yaml)', () => {
    const table = compileRouteTable(
      config([
        virtualService('reviews', {
          hosts: ['reviews'],
          http: [
            {
              route: [
                { destination: { host: 'reviews', subset: 'v1' }, weight: 50 },
                { destination: { host: 'reviews', subset: 'v3' }, weight: 50 },
              ],
            },
          ],
        }),
      ]),
      { random: seededRandom(1) },
    );
    const counts: Record<string, number> = {};
    for (let i = 0; i < 2000; i++) {
      const s = table.resolve(request('reviews'))!.subset!;
      counts[s] = (counts[s] ?? 0) + 1;
    }
    expect(Object.keys(counts).sort()).toEqual(['v1', 'v3']);
    // 99.9 % binomial interval for n = 2000, p = 0.5: 1000 ± 3.29·√500 ≈ 1000 ± 74.
    expect(Math.abs(counts.v1 - 1000)).toBeLessThanOrEqual(74);
  });

  it('keeps a 90/10 split of 10,000 requests within the 99.9 % binomial interval', () => {
    const table = compileRouteTable(
      config([
        virtualService('reviews', {
          hosts: ['reviews'],
          http: [
            {
              route: [
                { destination: { host: 'reviews', subset: 'v1' }, weight: 90 },
                { destination: { host: 'reviews', subset: 'v2' }, weight: 10 },
              ],
            },
          ],
        }),
      ]),
      { random: seededRandom(20_261_125) },
    );
    let v2 = 0;
    const n = 10_000;
    for (let i = 0; i < n; i++) if (table.resolve(request('reviews'))!.subset === 'v2') v2 += 1;
    const halfWidth = 3.2905 * Math.sqrt(n * 0.1 * 0.9); // z(0.9995) · σ, normal approximation
    expect(v2).toBeGreaterThanOrEqual(n * 0.1 - halfWidth);
    expect(v2).toBeLessThanOrEqual(n * 0.1 + halfWidth);
  });

  it('normalises weights that do not sum to 100 and never picks a zero-weight destination', () => {
    const table = compileRouteTable(
      config([
        virtualService('reviews', {
          hosts: ['reviews'],
          http: [
            {
              route: [
                { destination: { host: 'reviews', subset: 'v1' }, weight: 3 },
                { destination: { host: 'reviews', subset: 'v2' }, weight: 0 },
                { destination: { host: 'reviews', subset: 'v3' }, weight: 1 },
              ],
            },
          ],
        }),
      ]),
      { random: seededRandom(7) },
    );
    const seen = new Set<string>();
    let v3 = 0;
    for (let i = 0; i < 4000; i++) {
      const s = table.resolve(request('reviews'))!.subset!;
      seen.add(s);
      if (s === 'v3') v3 += 1;
    }
    expect(seen.has('v2')).toBe(false);
    expect(Math.abs(v3 - 1000)).toBeLessThanOrEqual(3.2905 * Math.sqrt(4000 * 0.25 * 0.75));
  });

  it("aborts one user's requests with the configured status (virtual-service-ratings-test-abort.yaml)", () => {
    const table = compileRouteTable(
      config([
        virtualService('ratings', {
          hosts: ['ratings'],
          http: [
            {
              match: [{ headers: { 'end-user': { exact: 'jason' } } }],
              fault: { abort: { percentage: { value: 100.0 }, httpStatus: 500 } },
              route: [{ destination: { host: 'ratings', subset: 'v1' } }],
            },
            { route: [{ destination: { host: 'ratings', subset: 'v1' } }] },
          ],
        }),
      ]),
    );
    expect(table.resolve(request('ratings', { 'end-user': 'jason' }))).toMatchObject({ abortStatus: 500, delayMs: 0 });
    expect(table.resolve(request('ratings', { 'end-user': 'alice' }))).toMatchObject({ abortStatus: 0, delayMs: 0 });
  });

  it("delays one user's requests by the fixed delay (virtual-service-ratings-test-delay.yaml)", () => {
    const table = compileRouteTable(
      config([
        virtualService('ratings', {
          hosts: ['ratings'],
          http: [
            {
              match: [{ headers: { 'end-user': { exact: 'jason' } } }],
              fault: { delay: { percentage: { value: 100.0 }, fixedDelay: '7s' } },
              route: [{ destination: { host: 'ratings', subset: 'v1' } }],
            },
            { route: [{ destination: { host: 'ratings', subset: 'v1' } }] },
          ],
        }),
      ]),
    );
    expect(table.resolve(request('ratings', { 'end-user': 'jason' }))).toMatchObject({ delayMs: 7000, abortStatus: 0 });
    expect(table.resolve(request('ratings'))?.delayMs).toBe(0);
  });

  it('injects a fault in about its percentage of requests', () => {
    const table = compileRouteTable(
      config([
        virtualService('ratings', {
          hosts: ['ratings'],
          http: [
            {
              fault: { abort: { percentage: { value: 25 }, httpStatus: 503 } },
              route: [{ destination: { host: 'ratings' } }],
            },
          ],
        }),
      ]),
      { random: seededRandom(3) },
    );
    let aborted = 0;
    for (let i = 0; i < 4000; i++) if (table.resolve(request('ratings'))!.abortStatus === 503) aborted += 1;
    expect(Math.abs(aborted - 1000)).toBeLessThanOrEqual(3.2905 * Math.sqrt(4000 * 0.25 * 0.75));
  });

  it('applies a fault without percentage to no request, as Istio does (istio/istio#36303)', () => {
    const table = compileRouteTable(
      config([
        virtualService('ratings', {
          hosts: ['ratings'],
          http: [
            {
              fault: { abort: { httpStatus: 503 }, delay: { fixedDelay: '2s' } },
              route: [{ destination: { host: 'ratings' } }],
            },
          ],
        }),
      ]),
      { random: seededRandom(9) },
    );
    for (let i = 0; i < 1000; i++)
      expect(table.resolve(request('ratings'))).toMatchObject({ abortStatus: 0, delayMs: 0 });
  });

  it('requires a regex to match the whole header value', () => {
    const table = compileRouteTable(
      config([
        virtualService('reviews', {
          hosts: ['reviews'],
          http: [
            {
              match: [{ headers: { 'end-user': { regex: 'canary-tester-[0-9]+' } } }],
              route: [{ destination: { host: 'reviews', subset: 'v3' } }],
            },
            { route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
          ],
        }),
      ]),
    );
    const subset = (user?: string) =>
      table.resolve(request('reviews', user === undefined ? {} : { 'end-user': user }))?.subset;
    expect(subset('canary-tester-7')).toBe('v3');
    expect(subset('canary-tester-123')).toBe('v3');
    expect(subset('canary-tester-7x')).toBe('v1');
    expect(subset('xcanary-tester-7')).toBe('v1');
    expect(subset('canary-tester-')).toBe('v1');
    expect(subset(undefined)).toBe('v1');
  });

  it('ORs match blocks, ANDs the conditions inside one, and matches uri without the query string', () => {
    const table = compileRouteTable(
      config([
        virtualService('reviews', {
          hosts: ['reviews'],
          http: [
            {
              match: [
                { uri: { prefix: '/reviews/' }, headers: { 'end-user': { exact: 'jason' } } },
                { uri: { exact: '/health' }, method: { exact: 'HEAD' } },
              ],
              route: [{ destination: { host: 'reviews', subset: 'v2' } }],
            },
            { route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
          ],
        }),
      ]),
    );
    const subset = (uri: string, headers: Record<string, string> = {}, method = 'GET') =>
      table.resolve(request('reviews', headers, uri, method))?.subset;
    expect(subset('/reviews/1?x=y', { 'end-user': 'jason' })).toBe('v2');
    expect(subset('/reviews/1', {})).toBe('v1'); // the header condition is ANDed
    expect(subset('/ratings/1', { 'end-user': 'jason' })).toBe('v1');
    expect(subset('/health', {}, 'HEAD')).toBe('v2'); // second block ORed
    expect(subset('/health?probe=1', {}, 'HEAD')).toBe('v2');
    expect(subset('/health', {}, 'GET')).toBe('v1');
  });

  it('takes the first matching route even when a later one matches too', () => {
    const table = compileRouteTable(
      config([
        virtualService('reviews', {
          hosts: ['reviews'],
          http: [
            { match: [{ uri: { prefix: '/' } }], route: [{ destination: { host: 'reviews', subset: 'v3' } }] },
            { match: [{ uri: { prefix: '/reviews' } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] },
          ],
        }),
      ]),
    );
    expect(table.resolve(request('reviews', {}, '/reviews/1'))?.subset).toBe('v3');
  });

  it('answers no route when no http route matches, and uses the plain service when no VirtualService exists', () => {
    const table = compileRouteTable(
      config([
        virtualService('reviews', {
          hosts: ['reviews'],
          http: [
            { match: [{ uri: { prefix: '/only' } }], route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
          ],
        }),
      ]),
    );
    expect(table.resolve(request('reviews', {}, '/other'))).toBeUndefined();
    const ratings = table.resolve(request('ratings'));
    expect(ratings?.routeName).toBe('default');
    expect(ratings?.cluster.endpoints.map((e) => e.workload)).toEqual(['ratings-v1']);
    expect(table.resolve(request('details'))).toBeUndefined();
  });

  it('applies gateway-bound VirtualServices at the gateway only, matching the Host header', () => {
    const table = compileRouteTable(
      config([
        virtualService('bookinfo', {
          hosts: ['*'],
          gateways: ['bookinfo-gateway'],
          http: [
            {
              match: [{ uri: { exact: '/productpage' } }],
              route: [{ destination: { host: 'productpage', port: { number: 9080 } } }],
            },
          ],
        }),
        virtualService('reviews-external', {
          hosts: ['reviews.example.com'],
          gateways: ['istio-system/bookinfo-gateway', 'mesh'],
          http: [{ route: [{ destination: { host: 'reviews', subset: 'v3' } }] }],
        }),
      ]),
    );
    const atGateway = (host: string, uri: string) =>
      table.resolve({ context: 'gateway', host, method: 'GET', uri, headers: {} });
    expect(atGateway('127.0.0.1:8080', '/productpage')?.service).toBe('productpage');
    expect(atGateway('127.0.0.1:8080', '/other')).toBeUndefined();
    // The wildcard binding comes first; Istio merges same-gateway hosts, the first match is what counts here.
    expect(table.resolve(request('productpage'))?.routeName).toBe('default');
    // A mesh VirtualService for an external name does not capture the service of the same first label.
    expect(table.resolve(request('reviews'))?.routeName).toBe('default');
    expect(table.resolve(request('reviews.example.com'))?.subset).toBe('v3');
  });

  it('matches sourceLabels against the calling workload', () => {
    const table = compileRouteTable(
      config([
        virtualService('ratings', {
          hosts: ['ratings'],
          http: [
            {
              match: [{ sourceLabels: { app: 'reviews', version: 'v2' } }],
              fault: { abort: { httpStatus: 418, percentage: { value: 100 } } },
              route: [{ destination: { host: 'ratings' } }],
            },
            { route: [{ destination: { host: 'ratings' } }] },
          ],
        }),
      ]),
    );
    const from = (labels: Record<string, string>) =>
      table.resolve({ ...request('ratings'), sourceLabels: labels })?.abortStatus;
    expect(from({ app: 'reviews', version: 'v2' })).toBe(418);
    expect(from({ app: 'reviews', version: 'v1' })).toBe(0);
  });

  it('parses timeout and retries, and keeps only connection failures in the default retry policy', () => {
    const table = compileRouteTable(
      config([
        virtualService('reviews', {
          hosts: ['reviews'],
          http: [
            {
              match: [{ uri: { prefix: '/slow' } }],
              timeout: '1.5s',
              retries: { attempts: 3, perTryTimeout: '250ms', retryOn: 'gateway-error,connect-failure,409' },
              route: [{ destination: { host: 'reviews', subset: 'v1' } }],
            },
            { route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
          ],
        }),
      ]),
    );
    const slow = table.resolve(request('reviews', {}, '/slow'))!;
    expect(slow.timeoutMs).toBe(1500);
    expect(slow.retries.attempts).toBe(3);
    expect(slow.retries.perTryTimeoutMs).toBe(250);
    expect(slow.retries.retryOn).toMatchObject({ gatewayError: true, connectFailure: true, status5xx: false });
    expect([...slow.retries.retryOn.statusCodes]).toEqual([409]);
    const plain = table.resolve(request('reviews'))!;
    expect(plain.timeoutMs).toBe(0);
    expect(plain.retries.retryOn).toMatchObject({ connectFailure: true, status5xx: false, gatewayError: false });
  });
});

describe('route table: regexes are RE2, as Envoy compiles them', () => {
  const routeOn = (match: Record<string, unknown>) =>
    compileRouteTable(
      config([
        virtualService('reviews', {
          hosts: ['reviews'],
          http: [
            { match: [match], route: [{ destination: { host: 'reviews', subset: 'v3' } }] },
            { route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
          ],
        }),
      ]),
    );

  it('accepts RE2 classes JavaScript lacks: POSIX [[:digit:]], Unicode \\pL and the (?i) flag', () => {
    const digits = routeOn({ headers: { 'end-user': { regex: 'tester-[[:digit:]]+' } } });
    expect(digits.resolve(request('reviews', { 'end-user': 'tester-42' }))!.subset).toBe('v3');
    expect(digits.resolve(request('reviews', { 'end-user': 'tester-4x' }))!.subset).toBe('v1');
    const letters = routeOn({ headers: { 'end-user': { regex: '\\pL+' } } });
    expect(letters.resolve(request('reviews', { 'end-user': 'zoë' }))!.subset).toBe('v3');
    expect(letters.resolve(request('reviews', { 'end-user': 'zoë1' }))!.subset).toBe('v1');
    const caseless = routeOn({ headers: { 'end-user': { regex: '(?i)jason' } } });
    expect(caseless.resolve(request('reviews', { 'end-user': 'JaSoN' }))!.subset).toBe('v3');
    expect(caseless.resolve(request('reviews', { 'end-user': 'jasonx' }))!.subset).toBe('v1');
  });

  it('refuses look-ahead and back-references, which RE2 does not have, naming the file, object and field', () => {
    const originOf = (kind: string, name: string) => `manifests/istio/${name}-${kind.toLowerCase()}.yaml`;
    for (const regex of ['(?=jason)\\w+', '(a)\\1']) {
      const err = captureError(() =>
        compileRouteTable(
          config([
            virtualService('reviews', {
              hosts: ['reviews'],
              http: [
                {
                  match: [{ uri: { prefix: '/' } }, { headers: { 'end-user': { regex } } }],
                  route: [{ destination: { host: 'reviews' } }],
                },
              ],
            }),
          ]),
          { originOf },
        ),
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toContain('manifests/istio/reviews-virtualservice.yaml');
      expect(err.message).toContain('VirtualService/default/reviews spec.http[0].match[1].headers.end-user.regex');
      expect(err.message).toContain('not valid RE2 syntax');
    }
  });

  it('applies ignoreUriCase to exact and prefix uri matches but not to a regex', () => {
    const prefix = routeOn({ uri: { prefix: '/Reviews' }, ignoreUriCase: true });
    expect(prefix.resolve(request('reviews', {}, '/REVIEWS/1'))!.subset).toBe('v3');
    const regex = routeOn({ uri: { regex: '/reviews/[0-9]+' }, ignoreUriCase: true });
    expect(regex.resolve(request('reviews', {}, '/reviews/1'))!.subset).toBe('v3');
    expect(regex.resolve(request('reviews', {}, '/REVIEWS/1'))!.subset).toBe('v1');
  });

  it('treats an absent header as matching withoutHeaders, whatever its StringMatch', () => {
    for (const spec of [{ regex: 'canary-.*' }, { exact: 'jason' }, { prefix: 'j' }, {}]) {
      const table = routeOn({ withoutHeaders: { 'end-user': spec } });
      expect(table.resolve(request('reviews'))!.subset).toBe('v3');
    }
    const table = routeOn({ withoutHeaders: { 'end-user': { regex: 'canary-.*' } } });
    expect(table.resolve(request('reviews', { 'end-user': 'canary-1' }))!.subset).toBe('v1');
    expect(table.resolve(request('reviews', { 'end-user': 'baseline-1' }))!.subset).toBe('v3');
  });

  it('compiles each pattern once per route table however many routes use it', async () => {
    const { RE2JS } = await import('re2js');
    const compile = vi.spyOn(RE2JS, 'compile');
    const match = { headers: { 'end-user': { regex: 'tester-[0-9]+' } } };
    compileRouteTable(
      config([
        virtualService('reviews', {
          hosts: ['reviews'],
          gateways: ['mesh', 'bookinfo-gateway'],
          http: [
            { match: [match], route: [{ destination: { host: 'reviews', subset: 'v3' } }] },
            { match: [match, match], route: [{ destination: { host: 'reviews', subset: 'v2' } }] },
          ],
        }),
      ]),
    );
    expect(compile.mock.calls.filter(([p]) => p === 'tester-[0-9]+')).toHaveLength(1);
    compile.mockRestore();
  });
});

describe('route table: configuration errors name the file and the object', () => {
  const originOf = (kind: string, name: string) => `manifests/istio/${name}-${kind.toLowerCase()}.yaml`;

  it('rejects a route to a subset no DestinationRule defines', () => {
    const vs = virtualService('reviews', {
      hosts: ['reviews'],
      http: [{ route: [{ destination: { host: 'reviews', subset: 'v9' } }] }],
    });
    const err = captureError(() => compileRouteTable(config([vs]), { originOf }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('manifests/istio/reviews-virtualservice.yaml');
    expect(err.message).toContain('VirtualService/default/reviews spec.http[0].route[0].destination.subset');
    expect(err.message).toContain('"v9"');
  });

  it('rejects a destination host that is not a service of the mesh, and a missing host', () => {
    const unknown = virtualService('reviews', {
      hosts: ['reviews'],
      http: [{ route: [{ destination: { host: 'details' } }] }],
    });
    expect(captureError(() => compileRouteTable(config([unknown]), { originOf })).message).toMatch(
      /route\[0\]\.destination\.host: "details" is not a service of the mesh/,
    );
    const missing = virtualService('reviews', {
      hosts: ['reviews'],
      http: [{ route: [{ destination: { subset: 'v1' } }] }],
    });
    expect(captureError(() => compileRouteTable(config([missing]), { originOf })).message).toMatch(
      /destination\.host: is required/,
    );
    const noHosts = virtualService('reviews', { http: [{ route: [{ destination: { host: 'reviews' } }] }] });
    expect(captureError(() => compileRouteTable(config([noHosts]), { originOf })).message).toMatch(
      /spec\.hosts: is required/,
    );
  });

  it('rejects a negative weight, a bad regex, a bad duration and an unknown gateway', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        {
          hosts: ['reviews'],
          http: [
            {
              route: [
                { destination: { host: 'reviews', subset: 'v1' }, weight: -10 },
                { destination: { host: 'reviews', subset: 'v2' }, weight: 110 },
              ],
            },
          ],
        },
        /route\[0\]\.weight: must be a non-negative number/,
      ],
      [
        {
          hosts: ['reviews'],
          http: [
            { match: [{ headers: { 'end-user': { regex: '(' } } }], route: [{ destination: { host: 'reviews' } }] },
          ],
        },
        /match\[0\]\.headers\.end-user\.regex: regex "\(" is not valid RE2 syntax/,
      ],
      [
        { hosts: ['reviews'], http: [{ timeout: 'soon', route: [{ destination: { host: 'reviews' } }] }] },
        /spec\.http\[0\]\.timeout: "soon" is not a duration/,
      ],
      [
        { hosts: ['reviews'], gateways: ['nope'], http: [{ route: [{ destination: { host: 'reviews' } }] }] },
        /spec\.gateways: names gateway "nope"/,
      ],
      [
        {
          hosts: ['reviews'],
          http: [
            {
              retries: { attempts: 2, retryOn: '5xx,envoy-ratelimited' },
              route: [{ destination: { host: 'reviews' } }],
            },
          ],
        },
        /spec\.http\[0\]\.retries\.retryOn: retry condition "envoy-ratelimited" is not supported by the local data plane/,
      ],
    ];
    for (const [spec, message] of cases) {
      expect(
        captureError(() => compileRouteTable(config([virtualService('reviews', spec)]), { originOf })).message,
      ).toMatch(message);
    }
  });
});

describe('load balancing over the replicas of a subset', () => {
  const replicas = [endpoint('reviews', 'v1', 0), endpoint('reviews', 'v1', 1), endpoint('reviews', 'v1', 2)];

  it('cycles through replicas with ROUND_ROBIN', () => {
    const table = compileRouteTable(
      config([], { endpoints: replicas, destinationRules: [destinationRule('reviews', ['v1'], 'ROUND_ROBIN')] }),
    );
    const cluster = table.resolve(request('reviews'))!.cluster;
    expect(Array.from({ length: 6 }, () => cluster.pick())).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('spreads RANDOM picks over every replica', () => {
    const table = compileRouteTable(
      config([], { endpoints: replicas, destinationRules: [destinationRule('reviews', ['v1'], 'RANDOM')] }),
      { random: seededRandom(11) },
    );
    const cluster = table.resolve(request('reviews'))!.cluster;
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[cluster.pick()] += 1;
    for (const c of counts)
      expect(Math.abs(c - 1000)).toBeLessThanOrEqual(3.2905 * Math.sqrt(3000 * (1 / 3) * (2 / 3)));
  });

  it('prefers the replica with fewer requests in flight with LEAST_REQUEST', () => {
    const table = compileRouteTable(
      config([], { endpoints: replicas, destinationRules: [destinationRule('reviews', ['v1'], 'LEAST_REQUEST')] }),
      { random: seededRandom(5) },
    );
    const cluster = table.resolve(request('reviews'))!.cluster;
    // Replica 0 is busy: power-of-two-choices never picks it while both others are idle.
    for (let i = 0; i < 10; i++) cluster.started(0);
    for (let i = 0; i < 200; i++) expect(cluster.pick()).not.toBe(0);
    for (let i = 0; i < 10; i++) cluster.finished(0);
    const seen = new Set(Array.from({ length: 200 }, () => cluster.pick()));
    expect(seen).toEqual(new Set([0, 1, 2]));
  });

  it("uses Istio's default LEAST_REQUEST when no DestinationRule sets a load balancer", () => {
    const table = compileRouteTable(
      config([], { endpoints: replicas, destinationRules: [destinationRule('reviews', ['v1'])] }),
      { random: seededRandom(5) },
    );
    const cluster = table.resolve(request('reviews'))!.cluster;
    expect(cluster.policy).toBe('LEAST_REQUEST');
    for (let i = 0; i < 10; i++) cluster.started(2);
    for (let i = 0; i < 200; i++) expect(cluster.pick()).not.toBe(2);
    const subset = compileRouteTable(config([reviewsJasonToV2])).resolve(request('reviews', { 'end-user': 'jason' }));
    expect(subset!.cluster.policy).toBe('LEAST_REQUEST');
  });

  it('selects subset replicas by every label of the subset', () => {
    const table = compileRouteTable(config([reviewsJasonToV2]));
    expect(table.resolve(request('reviews'))!.cluster.endpoints.map((e) => e.workload)).toEqual(['reviews-v1']);
  });
});

function captureError(f: () => unknown): Error {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

/** How the bff reaches its upstreams; the data plane's outbound sidecar and `http-upstream.ts` implement it. */

/** What an upstream answered. Header names are lower case. */
export interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** How the bff calls account and friend; the data plane's outbound sidecar implements it. */
export interface Upstream {
  request(
    service: 'account' | 'friend',
    path: string,
    init: { method?: string; headers: Record<string, string> },
  ): Promise<UpstreamResponse>;
}

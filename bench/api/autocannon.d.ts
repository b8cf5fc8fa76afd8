/** The slice of autocannon's API the API benchmark uses (the package ships no types; @types/autocannon is not installed). */
declare module "autocannon" {
  namespace autocannon {
    type Histogram = { p50: number; p99: number; max: number; average: number };
    type Result = {
      latency: Histogram;
      requests: Histogram & { total: number };
      "2xx": number;
      non2xx: number;
      errors: number;
      connections: number;
    };
    type Client = {
      on: (event: "response", listener: () => void) => void;
      setHeaders: (headers: Record<string, string>) => void;
      setRequests: (
        requests: { method?: string; path?: string; headers?: Record<string, string>; body?: string }[],
      ) => void;
    };
    type Options = {
      url: string;
      method?: string;
      connections?: number;
      duration?: number;
      headers?: Record<string, string>;
      body?: string;
      setupClient?: (client: Client) => void;
    };
  }
  function autocannon(options: autocannon.Options): Promise<autocannon.Result>;
  export default autocannon;
}

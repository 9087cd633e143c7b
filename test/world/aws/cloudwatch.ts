// CloudWatch: the AWS/ApplicationELB datapoints the ALB records (one per request, and host counts
// sampled over time), and GetMetricData over them for any window and period. Each metric answers
// only to the dimension sets AWS publishes it under, and has no datapoint where nothing happened.
import { AwsError, epochSeconds } from "./protocols.ts";

export interface RequestSample {
  at: number; // epoch ms
  loadBalancer: string; // "app/name/id"
  /** Group of the target the balancer chose; absent when it rejected the request before choosing one. */
  targetGroup?: string;
  /** What the target answered; absent when no response came from it. */
  targetStatus?: number;
  /** From the request leaving the balancer until the target's response headers arrived. */
  targetResponseSeconds?: number;
  /** The status the balancer generated itself (502, 503, 504 …). */
  elbStatus?: number;
  /** The connection to the chosen target could not be established. */
  targetConnectionError?: boolean;
}

export interface HostCountSample {
  at: number;
  loadBalancer: string;
  targetGroup: string;
  healthy: number;
  unhealthy: number;
}

type Sample = ({ kind: "request" } & RequestSample) | ({ kind: "hosts" } & HostCountSample);

interface MetricStat {
  Metric?: { Namespace?: string; MetricName?: string; Dimensions?: { Name?: string; Value?: string }[] };
  Period?: number;
  Stat?: string;
}

interface MetricDataQuery {
  Id?: string;
  Label?: string;
  MetricStat?: MetricStat;
  Expression?: string;
  ReturnData?: boolean;
}

interface GetMetricDataInput {
  MetricDataQueries?: MetricDataQuery[];
  StartTime?: number;
  EndTime?: number;
  ScanBy?: string;
}

const NAMESPACE = "AWS/ApplicationELB";
const HIGH_RESOLUTION_PERIODS = new Set([1, 5, 10, 20, 30]);

/** The dimension sets AWS publishes a metric under (AvailabilityZone ones are not emulated). */
const BY_TARGET_GROUP = ["LoadBalancer", "LoadBalancer,TargetGroup"];
const BY_LOAD_BALANCER = ["LoadBalancer"];
const HOSTS = ["LoadBalancer,TargetGroup"];

interface MetricDefinition {
  dimensionSets: string[];
  /** The sample's value for this metric, or undefined when it adds no datapoint. */
  value: (s: Sample) => number | undefined;
}

const request = (f: (s: RequestSample) => number | undefined) => (s: Sample) => (s.kind === "request" ? f(s) : undefined);
const one = (happened: boolean) => (happened ? 1 : undefined);
const targetClass = (hundreds: number) => request((s) => one(s.targetStatus !== undefined && Math.floor(s.targetStatus / 100) === hundreds));
const elbCode = (matches: (status: number) => boolean) => request((s) => one(s.elbStatus !== undefined && matches(s.elbStatus)));

const METRICS: Record<string, MetricDefinition> = {
  // Only requests for which the balancer chose a target, whatever became of them.
  RequestCount: { dimensionSets: BY_TARGET_GROUP, value: request((s) => one(s.targetGroup !== undefined)) },
  HTTPCode_Target_2XX_Count: { dimensionSets: BY_TARGET_GROUP, value: targetClass(2) },
  HTTPCode_Target_3XX_Count: { dimensionSets: BY_TARGET_GROUP, value: targetClass(3) },
  HTTPCode_Target_4XX_Count: { dimensionSets: BY_TARGET_GROUP, value: targetClass(4) },
  HTTPCode_Target_5XX_Count: { dimensionSets: BY_TARGET_GROUP, value: targetClass(5) },
  TargetConnectionErrorCount: { dimensionSets: BY_TARGET_GROUP, value: request((s) => one(s.targetConnectionError === true)) },
  TargetResponseTime: { dimensionSets: BY_TARGET_GROUP, value: request((s) => s.targetResponseSeconds) },
  HTTPCode_ELB_5XX_Count: { dimensionSets: BY_LOAD_BALANCER, value: elbCode((status) => status >= 500) },
  HTTPCode_ELB_502_Count: { dimensionSets: BY_LOAD_BALANCER, value: elbCode((status) => status === 502) },
  HTTPCode_ELB_503_Count: { dimensionSets: BY_LOAD_BALANCER, value: elbCode((status) => status === 503) },
  HTTPCode_ELB_504_Count: { dimensionSets: BY_LOAD_BALANCER, value: elbCode((status) => status === 504) },
  HealthyHostCount: { dimensionSets: HOSTS, value: (s) => (s.kind === "hosts" ? s.healthy : undefined) },
  UnHealthyHostCount: { dimensionSets: HOSTS, value: (s) => (s.kind === "hosts" ? s.unhealthy : undefined) },
};

/** When datapoints exist: AWS publishes ALB metrics per clock-aligned minute, some time after it ends. */
export interface Publication {
  /** Length of the clock-aligned bucket a datapoint stands for (0: each request is its own instant). */
  bucketMs: number;
  /** From a bucket's end until GetMetricData returns it. */
  delayMs: number;
}

export class CloudWatch {
  #samples: Sample[] = [];
  readonly #publication: Publication;

  constructor(publication: Publication = { bucketMs: 0, delayMs: 0 }) {
    this.#publication = publication;
  }

  record(sample: RequestSample): void {
    this.#samples.push({ kind: "request", ...sample });
  }

  recordHosts(sample: HostCountSample): void {
    this.#samples.push({ kind: "hosts", ...sample });
  }

  getMetricData(input: GetMetricDataInput) {
    const queries = input.MetricDataQueries ?? [];
    if (queries.length === 0 || queries.length > 500) {
      throw new AwsError("InvalidParameterValue", "MetricDataQueries must contain between 1 and 500 queries");
    }
    if (input.StartTime === undefined || input.EndTime === undefined) {
      throw new AwsError("InvalidParameterValue", "StartTime and EndTime are required");
    }
    if (input.StartTime >= input.EndTime) {
      throw new AwsError("InvalidParameterValue", "The parameter StartTime must be less than the parameter EndTime.");
    }
    // As CloudWatch does with minute data: a start inside a minute means that whole minute.
    const { bucketMs } = this.#publication;
    const start = bucketMs > 0 ? Math.floor((input.StartTime * 1000) / bucketMs) * bucketMs : input.StartTime * 1000;
    const end = input.EndTime * 1000;
    const descending = input.ScanBy !== "TimestampAscending";
    return {
      MetricDataResults: queries
        .filter((q) => q.ReturnData !== false)
        .map((q) => {
          if (!q.Id || !q.MetricStat) {
            throw new AwsError("InvalidParameterValue", `Query ${q.Id ?? "?"}: the emulator supports MetricStat queries only`);
          }
          const points = this.#series(q.MetricStat, start, end);
          if (descending) points.reverse();
          return {
            Id: q.Id,
            Label: q.Label ?? q.MetricStat.Metric?.MetricName,
            Timestamps: points.map(([t]) => epochSeconds(new Date(t))),
            Values: points.map(([, v]) => v),
            StatusCode: "Complete",
          };
        }),
      Messages: [],
    };
  }

  /** Ascending [bucket start ms, value] for buckets that hold data. */
  #series(stat: MetricStat, start: number, end: number): [number, number][] {
    const period = stat.Period ?? 0;
    if (!(HIGH_RESOLUTION_PERIODS.has(period) || (period > 0 && period % 60 === 0))) {
      throw new AwsError("InvalidParameterValue", "The parameter Period must be 1, 5, 10, 20, 30 or a multiple of 60.");
    }
    const aggregate = aggregator(stat.Stat);
    const metric = stat.Metric;
    const definition = metric?.Namespace === NAMESPACE ? METRICS[metric.MetricName ?? ""] : undefined;
    const dims = new Map((metric?.Dimensions ?? []).map((d) => [d.Name ?? "", d.Value ?? ""]));
    // CloudWatch matches a metric's dimensions exactly: a set it is not published under has no data.
    if (!definition?.dimensionSets.includes([...dims.keys()].toSorted().join(","))) return [];
    const buckets = new Map<number, number[]>();
    const { bucketMs, delayMs } = this.#publication;
    const publishedUntil = Date.now() - delayMs;
    for (const sample of this.#samples) {
      const at = bucketMs > 0 ? Math.floor(sample.at / bucketMs) * bucketMs : sample.at;
      if (at + bucketMs > publishedUntil) continue;
      const s = at === sample.at ? sample : { ...sample, at };
      if (s.at < start || s.at >= end || !matches(s, dims)) continue;
      const value = definition.value(s);
      if (value === undefined) continue;
      const bucket = start + Math.floor((s.at - start) / (period * 1000)) * period * 1000;
      let values = buckets.get(bucket);
      if (!values) buckets.set(bucket, (values = []));
      values.push(value);
    }
    return [...buckets.entries()].toSorted(([a], [b]) => a - b).map(([t, values]) => [t, aggregate(values)]);
  }
}

function matches(s: Sample, dims: Map<string, string>): boolean {
  for (const [name, value] of dims) {
    if (name === "LoadBalancer" && value === s.loadBalancer) continue;
    if (name === "TargetGroup" && value === s.targetGroup) continue;
    return false;
  }
  return true;
}

function aggregator(stat: string | undefined): (values: number[]) => number {
  switch (stat) {
    case "Sum":
      return (v) => v.reduce((a, b) => a + b, 0);
    case "SampleCount":
      return (v) => v.length;
    case "Average":
      return (v) => v.reduce((a, b) => a + b, 0) / v.length;
    case "Minimum":
      return (v) => Math.min(...v);
    case "Maximum":
      return (v) => Math.max(...v);
  }
  const p = /^p(\d{1,2}(?:\.\d+)?|100)$/.exec(stat ?? "");
  if (!p) throw new AwsError("InvalidParameterValue", `The parameter Stat '${stat}' is not a valid statistic.`);
  const q = Number(p[1]) / 100;
  // Nearest-rank percentile.
  return (v) => {
    const sorted = v.toSorted((a, b) => a - b);
    return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? 0;
  };
}

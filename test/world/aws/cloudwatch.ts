// CloudWatch: the AWS/ApplicationELB datapoints the ALB proxy records, one per request, and
// GetMetricData over them for any window and period.
import { AwsError, epochSeconds } from "./protocols.ts";

export interface RequestSample {
  at: number; // epoch ms
  loadBalancer: string; // "app/name/id"
  targetGroup?: string; // "targetgroup/name/id"; absent when the ALB answered by itself
  status: number;
  latencyMs: number;
}

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

/** Per-request value of each metric, or undefined when the request adds no datapoint. */
const METRICS: Record<string, (s: RequestSample) => number | undefined> = {
  RequestCount: (s) => (s.targetGroup ? 1 : undefined),
  HTTPCode_Target_2XX_Count: (s) => (s.targetGroup && s.status >= 200 && s.status < 300 ? 1 : undefined),
  HTTPCode_Target_4XX_Count: (s) => (s.targetGroup && s.status >= 400 && s.status < 500 ? 1 : undefined),
  HTTPCode_Target_5XX_Count: (s) => (s.targetGroup && s.status >= 500 ? 1 : undefined),
  HTTPCode_ELB_5XX_Count: (s) => (!s.targetGroup && s.status >= 500 ? 1 : undefined),
  TargetResponseTime: (s) => (s.targetGroup ? s.latencyMs / 1000 : undefined),
};

export class CloudWatch {
  #samples: RequestSample[] = [];

  record(sample: RequestSample): void {
    this.#samples.push(sample);
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
    const start = input.StartTime * 1000;
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
    const valueOf = metric?.Namespace === NAMESPACE ? METRICS[metric.MetricName ?? ""] : undefined;
    if (!valueOf) return [];
    const dims = new Map((metric?.Dimensions ?? []).map((d) => [d.Name ?? "", d.Value ?? ""]));
    const buckets = new Map<number, number[]>();
    for (const s of this.#samples) {
      if (s.at < start || s.at >= end || !matches(s, dims)) continue;
      const value = valueOf(s);
      if (value === undefined) continue;
      const bucket = start + Math.floor((s.at - start) / (period * 1000)) * period * 1000;
      let values = buckets.get(bucket);
      if (!values) buckets.set(bucket, (values = []));
      values.push(value);
    }
    return [...buckets.entries()].toSorted(([a], [b]) => a - b).map(([t, values]) => [t, aggregate(values)]);
  }
}

function matches(s: RequestSample, dims: Map<string, string>): boolean {
  if (dims.size === 0) return false;
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

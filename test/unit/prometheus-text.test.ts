import { renderPrometheus } from "../../src/api/prometheus";
import { parsePrometheusText } from "../support/prometheus-parser";

test("rendered families parse back, with label values escaped", () => {
  const text = renderPrometheus([
    { name: "pgconductor_executions", type: "gauge", help: "Executions\nper queue", samples: [
      { labels: { queue: 'we"ird\\q\nname', state: "runnable" }, value: 3 },
      { labels: { queue: "default", state: "failed" }, value: 0 },
    ] },
    { name: "pgconductor_orchestrators", type: "gauge", help: "Registered orchestrators.", samples: [{ value: 2 }] },
    { name: "pgconductor_replication_slot_lag_bytes", type: "gauge", help: "Lag.", samples: [] },
  ]);
  const families = parsePrometheusText(text);
  expect(families.get("pgconductor_executions")?.samples).toEqual([
    { name: "pgconductor_executions", labels: { queue: 'we"ird\\q\nname', state: "runnable" }, value: 3 },
    { name: "pgconductor_executions", labels: { queue: "default", state: "failed" }, value: 0 },
  ]);
  expect(families.get("pgconductor_executions")?.help).toBe("Executions\\nper queue");
  expect(families.get("pgconductor_orchestrators")?.samples[0].value).toBe(2);
  expect(families.get("pgconductor_replication_slot_lag_bytes")?.type).toBe("gauge");
});

test("the parser rejects what Prometheus would", () => {
  expect(() => parsePrometheusText("x 1")).toThrow("newline");
  expect(() => parsePrometheusText("# TYPE x gauge\nx{a=\"1\"} one\n")).toThrow("bad value");
  expect(() => parsePrometheusText("y 1\n")).toThrow("before its TYPE");
  expect(() => parsePrometheusText("# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n")).toThrow("twice");
  expect(() => parsePrometheusText("# TYPE x gauge\nx{a=\"\\q\"} 1\n")).toThrow("bad escape");
});

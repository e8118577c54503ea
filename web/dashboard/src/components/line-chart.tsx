// uPlot line chart: canvas drawing, a few kB, fast for 365 points and more.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface LinePoint {
  date: string;
  value: number;
}

export function LineChart({ points, label, height = 220 }: { points: LinePoint[]; label: string; height?: number }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = host.current;
    if (!element || points.length === 0) return;
    const xs = points.map((point) => Date.parse(`${point.date}T00:00:00Z`) / 1000);
    const ys = points.map((point) => point.value);
    const chart = new uPlot(
      {
        width: Math.max(320, element.clientWidth),
        height,
        scales: { y: { range: [0, 100] } },
        series: [{}, { label, stroke: "#1f6feb", width: 2, fill: "rgba(31,111,235,0.08)" }],
        axes: [{}, { label: "score" }],
        legend: { show: false },
      },
      [xs, ys],
      element,
    );
    element.dataset.points = String(points.length);
    element.dataset.series = String(chart.series.length - 1);
    return () => chart.destroy();
  }, [points, label, height]);
  return <div ref={host} class="chart" role="img" aria-label={`${label}: ${points.length} points`} />;
}

import { LANES, type Lane } from 'trpc-live/shared';

/** Stacked per-second bars by lane (oldest second on the left). Plain SVG, no chart library. */
export function LaneChart({ series, label }: { series: Record<Lane, number[]>; label: string }) {
  const n = series.instant.length;
  const totals = Array.from({ length: n }, (_, i) => LANES.reduce((sum, lane) => sum + (series[lane][i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const width = 600;
  const height = 120;
  const bar = width / Math.max(1, n);
  const last = totals[n - 1] ?? 0;
  const sum = totals.reduce((a, b) => a + b, 0);
  return (
    <figure className="chart">
      <figcaption>
        <span>{label}</span>
        <span className="muted small">
          last second {last} · last minute {sum} · peak {max === 1 && sum === 0 ? 0 : max}/s
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label={label}>
        <line x1="0" x2={width} y1={height - 0.5} y2={height - 0.5} className="axis" />
        {totals.map((_, i) => {
          let y = height;
          return LANES.map((lane) => {
            const v = series[lane][i] ?? 0;
            if (!v) return null;
            const h = (v / max) * (height - 6);
            y -= h;
            return <rect key={`${i}-${lane}`} x={i * bar + 1} y={y} width={Math.max(1, bar - 2)} height={h} className={`lane-${lane}`} />;
          });
        })}
      </svg>
      <div className="legend small">
        {LANES.map((lane) => (
          <span key={lane}>
            <i className={`swatch lane-${lane}`} /> {lane} {series[lane].reduce((a, b) => a + b, 0)}
          </span>
        ))}
      </div>
    </figure>
  );
}

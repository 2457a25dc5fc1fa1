/** One line of a {@link cdfChart}. */
export interface CdfSeries {
  readonly label: string;
  readonly color: string;
  /** The samples (e.g. ms); their empirical distribution is drawn. */
  readonly values: readonly number[];
}

/** Options of {@link cdfChart}. */
export interface CdfChartOptions {
  readonly title: string;
  readonly subtitle?: string;
  readonly xLabel: string;
  readonly series: readonly CdfSeries[];
  /** Vertical reference lines (e.g. a goal). */
  readonly markers?: ReadonlyArray<{ readonly at: number; readonly label: string }>;
  /** Axis range; the axis is logarithmic (base 10). */
  readonly xMin: number;
  readonly xMax: number;
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const tickLabel = (value: number) => (value >= 1000 ? `${value / 1000} s` : `${value} ms`);

/**
 * A cumulative distribution chart as a standalone SVG (no scripts, no
 * external fonts): for each series, the share of samples at or below x, on a
 * log x axis. Deterministic output for the same input, so a regenerated chart
 * only differs where the data does.
 */
export function cdfChart(options: CdfChartOptions): string {
  const width = 760;
  const legendRows = options.series.length;
  const height = 380 + legendRows * 18;
  const margin = { left: 64, right: 24, top: 64, bottom: 64 + legendRows * 18 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const lx = (v: number) => Math.log10(Math.min(options.xMax, Math.max(options.xMin, v)));
  const x = (v: number) => margin.left + ((lx(v) - lx(options.xMin)) / (lx(options.xMax) - lx(options.xMin))) * plotW;
  const y = (share: number) => margin.top + (1 - share) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${margin.left}" y="26" font-size="16" font-weight="bold">${escape(options.title)}</text>`,
  );
  if (options.subtitle) out.push(`<text x="${margin.left}" y="46" fill="#555">${escape(options.subtitle)}</text>`);
  // Grid: decades (and 2, 5 between them) on x, tenths on y.
  for (let decade = Math.floor(Math.log10(options.xMin)); decade <= Math.ceil(Math.log10(options.xMax)); decade++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** decade;
      if (v < options.xMin || v > options.xMax) continue;
      const px = x(v).toFixed(1);
      out.push(`<line x1="${px}" y1="${margin.top}" x2="${px}" y2="${margin.top + plotH}" stroke="${m === 1 ? '#ddd' : '#f0f0f0'}"/>`);
      if (m === 1 || options.xMax / options.xMin < 1e4) {
        out.push(`<text x="${px}" y="${margin.top + plotH + 16}" text-anchor="middle" fill="#444">${tickLabel(v)}</text>`);
      }
    }
  }
  for (let i = 0; i <= 10; i++) {
    const py = y(i / 10).toFixed(1);
    out.push(`<line x1="${margin.left}" y1="${py}" x2="${margin.left + plotW}" y2="${py}" stroke="${i % 5 === 0 ? '#ddd' : '#f3f3f3'}"/>`);
    if (i % 2 === 0) out.push(`<text x="${margin.left - 8}" y="${(Number(py) + 4).toFixed(1)}" text-anchor="end" fill="#444">${i * 10}%</text>`);
  }
  out.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
    `<text x="${margin.left + plotW / 2}" y="${margin.top + plotH + 38}" text-anchor="middle" fill="#222">${escape(options.xLabel)}</text>`,
    `<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#222">share of observers at or below</text>`,
  );
  for (const marker of options.markers ?? []) {
    const px = x(marker.at).toFixed(1);
    out.push(
      `<line x1="${px}" y1="${margin.top}" x2="${px}" y2="${margin.top + plotH}" stroke="#888" stroke-dasharray="4 3"/>`,
      `<text x="${Number(px) + 4}" y="${margin.top + 12}" fill="#666">${escape(marker.label)}</text>`,
    );
  }
  options.series.forEach((series, i) => {
    const sorted = [...series.values].sort((a, b) => a - b);
    if (sorted.length) {
      // One step per distinct value, at most ~400 points.
      const step = Math.max(1, Math.floor(sorted.length / 400));
      const points: string[] = [`${x(sorted[0]!).toFixed(1)},${y(0).toFixed(1)}`];
      for (let k = 0; k < sorted.length; k += step) points.push(`${x(sorted[k]!).toFixed(1)},${y((k + 1) / sorted.length).toFixed(1)}`);
      points.push(`${x(sorted.at(-1)!).toFixed(1)},${y(1).toFixed(1)}`);
      out.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${series.color}" stroke-width="2.5"/>`);
    }
    const ly = margin.top + plotH + 62 + i * 18;
    const lxPos = margin.left;
    out.push(
      `<line x1="${lxPos}" y1="${ly - 4}" x2="${lxPos + 24}" y2="${ly - 4}" stroke="${series.color}" stroke-width="3"/>`,
      `<text x="${lxPos + 30}" y="${ly}" fill="#222">${escape(`${series.label} (${sorted.length} samples)`)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

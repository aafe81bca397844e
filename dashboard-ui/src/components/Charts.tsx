import type { ReactElement, ReactNode } from 'react';
import { Bar, BarChart, CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatDate } from '../format.ts';

/**
 * The two charts of the Overview (Recharts, SVG). Each is a figure with a
 * caption and a "Show data" table holding the same numbers, so the chart is
 * never the only way to read them.
 */
export interface VolumePoint {
  day: string;
  /** Major units, for drawing only; the table shows `label`. */
  volume: number;
  label: string;
  operations: number;
}

export interface ApprovalPoint {
  day: string;
  /** Percent 0-100, or null on a day without final attempts. */
  rate: number | null;
  approved: number;
  attempts: number;
}

const axisTick = { fontSize: 12, fill: '#374151' };
const shortDay = (day: string) => formatDate(day).replace(/ \d{4}$/, '');

/** A chart (hidden from screen readers) with its caption and, under "Show data", a table of the same numbers. */
function ChartFigure({ caption, chart, table }: { caption: ReactNode; chart: ReactElement; table: ReactNode }) {
  return (
    <figure className="chart">
      <figcaption>{caption}</figcaption>
      <div className="chart-box" aria-hidden="true">
        <ResponsiveContainer width="100%" height={240}>
          {chart}
        </ResponsiveContainer>
      </div>
      <details>
        <summary>Show data</summary>
        <div className="table-wrap" role="region" aria-label="Chart data" tabIndex={0}>
          {table}
        </div>
      </details>
    </figure>
  );
}

export function VolumeChart({ points, currency }: { points: VolumePoint[]; currency: string }) {
  return (
    <ChartFigure
      caption={<>Successful volume per day, {currency}</>}
      chart={
        <BarChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" vertical={false} />
          <XAxis dataKey="day" tickFormatter={shortDay} tick={axisTick} minTickGap={16} />
          <YAxis tick={axisTick} width={64} allowDecimals />
          <Tooltip
            formatter={(_value, _name, item) => [(item.payload as VolumePoint).label, 'Volume']}
            labelFormatter={(day) => formatDate(String(day))}
          />
          <Bar dataKey="volume" fill="#1d4ed8" radius={[3, 3, 0, 0]} isAnimationActive={false} />
        </BarChart>
      }
      table={
        <table className="compact">
          <caption className="sr-only">Successful volume per day in {currency}</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col" className="number">
                Volume
              </th>
              <th scope="col" className="number">
                Successful operations
              </th>
            </tr>
          </thead>
          <tbody>
            {points.map((point) => (
              <tr key={point.day}>
                <th scope="row" className="nowrap">{formatDate(point.day)}</th>
                <td className="number">{point.label}</td>
                <td className="number">{point.operations}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    />
  );
}

export function ApprovalChart({ points }: { points: ApprovalPoint[] }) {
  return (
    <ChartFigure
      caption="Approval rate per day (approved ÷ final purchase attempts)"
      chart={
        <LineChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" vertical={false} />
          <XAxis dataKey="day" tickFormatter={shortDay} tick={axisTick} minTickGap={16} />
          <YAxis domain={[0, 100]} tickFormatter={(value) => `${value}%`} tick={axisTick} width={48} />
          <Tooltip
            formatter={(_value, _name, item) => {
              const point = item.payload as ApprovalPoint;
              return [point.rate === null ? 'no attempts' : `${point.rate.toFixed(1)}% (${point.approved} of ${point.attempts})`, 'Approval rate'];
            }}
            labelFormatter={(day) => formatDate(String(day))}
          />
          <Line type="monotone" dataKey="rate" stroke="#047857" strokeWidth={2} dot={{ r: 3 }} connectNulls isAnimationActive={false} />
        </LineChart>
      }
      table={
        <table className="compact">
          <caption className="sr-only">Approval rate per day</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col" className="number">
                Approval rate
              </th>
              <th scope="col" className="number">
                Approved
              </th>
              <th scope="col" className="number">
                Final attempts
              </th>
            </tr>
          </thead>
          <tbody>
            {points.map((point) => (
              <tr key={point.day}>
                <th scope="row" className="nowrap">{formatDate(point.day)}</th>
                <td className="number">{point.rate === null ? '—' : `${point.rate.toFixed(1)}%`}</td>
                <td className="number">{point.approved}</td>
                <td className="number">{point.attempts}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    />
  );
}

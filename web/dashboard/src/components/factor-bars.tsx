// The diagnosis's weighted factors as bars: width is the factor's weight in the score.
export interface FactorRow {
  name: string;
  weight: number;
  value: number;
  subScore: number | null;
}

export function FactorBars({ factors }: { factors: FactorRow[] }) {
  return (
    <ul class="bars">
      {factors.map((factor) => (
        <li key={factor.name}>
          <span class="bar-label">
            {factor.name.replace(/_/g, " ")} <small>value {factor.value} · weight {Math.round(factor.weight * 100)} %{factor.subScore === null ? "" : ` · ${Math.round(factor.subScore)} pts`}</small>
          </span>
          <span class="bar" role="meter" aria-label={`${factor.name} weight`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(factor.weight * 100)}>
            <span class="bar-fill" style={{ width: `${Math.round(factor.weight * 100)}%` }} />
          </span>
        </li>
      ))}
    </ul>
  );
}

// The CRM view: the people who consented to the sandbox client, a page at a time, filtered by
// band and country (users(band:, country:)), sortable, with the wellness export.
import { useMemo, useState } from "preact/hooks";
import { useQuery } from "@urql/preact";
import { otherErrors } from "../graphql.ts";
import { exportWellness, type Session } from "../session.ts";
import { ErrorList } from "./person.tsx";

const USERS = `query DashboardUsers($first: Int!, $after: String, $band: WellnessBand, $country: Country) {
  users(first: $first, after: $after, band: $band, country: $country) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id country wellness { score band trend30d } } }
  }
}`;
const PAGE_SIZE = 10;
const BANDS = ["GREEN", "AMBER", "RED"];
const COUNTRIES = ["EC", "MX", "PE", "CO", "CL"];

interface Row {
  id: string;
  country: string;
  wellness: { score: number; band: string; trend30d: number } | null;
}
type SortKey = "id" | "country" | "score" | "trend";

const SORTERS: Record<SortKey, (row: Row) => string | number> = {
  id: (row) => row.id,
  country: (row) => row.country,
  score: (row) => row.wellness?.score ?? -1,
  trend: (row) => row.wellness?.trend30d ?? -999,
};

export function CrmView({ session }: { session: Session }) {
  const [band, setBand] = useState("");
  const [country, setCountry] = useState("");
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [sort, setSort] = useState<{ key: SortKey; ascending: boolean }>({ key: "id", ascending: true });
  const [exportState, setExportState] = useState<{ status: string; url?: string; error?: string }>();
  const variables = useMemo(() => ({ first: PAGE_SIZE, after: cursors[cursors.length - 1], band: band || null, country: country || null }), [cursors, band, country]);
  const [{ data, error, fetching }] = useQuery<{ users: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: Row }[] } }>({ query: USERS, variables });
  const rows = useMemo(() => {
    const list = (data?.users.edges ?? []).map((edge) => edge.node);
    const key = SORTERS[sort.key];
    return list.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (sort.ascending ? 1 : -1));
  }, [data, sort]);
  const restart = () => setCursors([null]);

  const header = (key: SortKey, label: string) => (
    <th scope="col" aria-sort={sort.key === key ? (sort.ascending ? "ascending" : "descending") : "none"}>
      <button type="button" class="sort" onClick={() => setSort({ key, ascending: sort.key === key ? !sort.ascending : true })}>
        {label} {sort.key === key ? (sort.ascending ? "▲" : "▼") : ""}
      </button>
    </th>
  );

  const runExport = async () => {
    setExportState({ status: "queued" });
    try {
      const url = await exportWellness(session, (status) => setExportState({ status }));
      setExportState({ status: "succeeded", url });
    } catch (failure) {
      setExportState({ status: "failed", error: (failure as Error).message });
    }
  };

  return (
    <div>
      <ErrorList errors={otherErrors(error)} />
      <div class="toolbar">
        <FilterSelect label="Band" value={band} options={BANDS} onChange={(value) => { setBand(value); restart(); }} />
        <FilterSelect label="Country" value={country} options={COUNTRIES} onChange={(value) => { setCountry(value); restart(); }} />
        <button type="button" onClick={() => void runExport()} disabled={exportState?.status === "queued" || exportState?.status === "running"}>
          Export (CSV)
        </button>
        <span role="status" aria-live="polite">
          {exportState?.status === "succeeded" && exportState.url ? <a href={exportState.url}>Download the export</a> : exportState ? `Export ${exportState.status}${exportState.error ? `: ${exportState.error}` : ""}` : ""}
        </span>
      </div>
      <p role="status">{fetching ? "Loading…" : `${data?.users.totalCount ?? 0} consented people; page ${cursors.length}`}</p>
      <table class="crm">
        <thead>
          <tr>{header("id", "Person")}{header("country", "Country")}{header("score", "Score")}<th scope="col">Band</th>{header("trend", "30-day trend")}</tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id}>
              <td><code>{row.id}</code></td>
              <td>{row.country}</td>
              <td class="num">{row.wellness?.score ?? "not consented"}</td>
              <td>{row.wellness ? <span class={`band band-${row.wellness.band}`}>{row.wellness.band}</span> : "not consented"}</td>
              <td class="num">{row.wellness ? row.wellness.trend30d : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="toolbar">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>Previous page</button>
        <button type="button" disabled={!data?.users.pageInfo.hasNextPage} onClick={() => setCursors([...cursors, data?.users.pageInfo.endCursor ?? null])}>Next page</button>
      </div>
    </div>
  );
}

function FilterSelect({ label, value, options, onChange }: { label: string; value: string; options: string[]; onChange: (value: string) => void }) {
  return (
    <label>
      {label}{" "}
      <select value={value} onChange={(event) => onChange(event.currentTarget.value)}>
        <option value="">any</option>
        {options.map((name) => <option key={name} value={name}>{name}</option>)}
      </select>
    </label>
  );
}

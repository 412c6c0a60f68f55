// Search, CVAT's filter language, sort and pages for the resource lists, kept in the URL so a
// list can be bookmarked and reloaded (?page=2&search=car&sort=-id&filter=...).
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { buildFilter, filterJoin, OPERATORS, parseFilter, type Condition, type FieldSpec } from "../lib/filter";
import { DEFAULT_PAGE_SIZE, DEFAULT_SORT, listSearch, parseListQuery, type ListQuery } from "../lib/listQuery";

export { listParams, type ListQuery } from "../lib/listQuery";

export function useListQuery(defaultSort = DEFAULT_SORT, pageSize = DEFAULT_PAGE_SIZE): [ListQuery, (changes: Partial<ListQuery>) => void] {
  const [params, setParams] = useSearchParams();
  const query = parseListQuery(params, defaultSort, pageSize);
  const update = (changes: Partial<ListQuery>) => {
    setParams(listSearch({ ...query, ...(changes.page === undefined ? { page: 1 } : {}), ...changes }, defaultSort));
  };
  return [query, update];
}

export function ListControls({ query, onChange, fields, sorts }: { query: ListQuery; onChange(changes: Partial<ListQuery>): void; fields: FieldSpec[]; sorts: [string, string][] }) {
  const [search, setSearch] = useState(query.search);
  const [conditions, setConditions] = useState<Condition[]>(() => parseFilter(query.filter));
  const [showFilter, setShowFilter] = useState(conditions.length > 0);
  // the URL changed under the form (Back, the "Tasks" link): show its search and filter, not the
  // last typed ones; a filter these rows build already is kept as typed (its empty rows too)
  const [shown, setShown] = useState({ search: query.search, filter: query.filter });
  if (shown.search !== query.search || shown.filter !== query.filter) {
    setShown({ search: query.search, filter: query.filter });
    setSearch(query.search);
    if (buildFilter(conditions, fields, filterJoin(query.filter)) !== query.filter) setConditions(parseFilter(query.filter));
  }
  const first = fields[0]!;

  function submitSearch(event: FormEvent) {
    event.preventDefault();
    onChange({ search: search.trim() });
  }

  return (
    <div className="list-controls">
      <form role="search" onSubmit={submitSearch}>
        <input type="search" aria-label="Search" placeholder="Search" value={search} onChange={(e) => setSearch(e.target.value)} />
        <button type="submit">Search</button>
      </form>
      <label>
        Sort by{" "}
        <select aria-label="Sort by" value={query.sort} onChange={(e) => onChange({ sort: e.target.value })}>
          {sorts.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <button type="button" aria-expanded={showFilter} onClick={() => setShowFilter(!showFilter)}>
        Filter{query.filter ? " (on)" : ""}
      </button>
      {showFilter ? (
        <fieldset className="filter-builder">
          <legend>Filter</legend>
          {conditions.map((condition, index) => {
            const spec = fields.find((f) => f.name === condition.field) ?? first;
            const set = (changes: Partial<Condition>) => setConditions(conditions.map((c, i) => (i === index ? { ...c, ...changes } : c)));
            return (
              <div className="filter-row" key={index}>
                <select aria-label="Field" value={condition.field} onChange={(e) => set({ field: e.target.value, op: OPERATORS[fields.find((f) => f.name === e.target.value)?.kind ?? "text"][0]! })}>
                  {fields.map((f) => (
                    <option key={f.name} value={f.name}>
                      {f.label}
                    </option>
                  ))}
                </select>
                <select aria-label="Operator" value={condition.op} onChange={(e) => set({ op: e.target.value as Condition["op"] })}>
                  {OPERATORS[spec.kind].map((op) => (
                    <option key={op} value={op}>
                      {op === "in" ? "contains" : op}
                    </option>
                  ))}
                </select>
                {spec.kind === "choice" ? (
                  <select aria-label="Value" value={condition.value} onChange={(e) => set({ value: e.target.value })}>
                    <option value="" />
                    {spec.choices?.map((c) => (
                      <option key={c} value={c}>
                        {c}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input aria-label="Value" type={spec.kind === "number" ? "number" : spec.kind === "date" ? "date" : "text"} value={condition.value} onChange={(e) => set({ value: e.target.value })} />
                )}
                <button type="button" aria-label="Remove condition" onClick={() => setConditions(conditions.filter((_, i) => i !== index))}>
                  −
                </button>
              </div>
            );
          })}
          <div className="actions">
            <button type="button" onClick={() => setConditions([...conditions, { field: first.name, op: OPERATORS[first.kind][0]!, value: "" }])}>
              Add condition
            </button>
            <button type="button" className="primary" onClick={() => onChange({ filter: buildFilter(conditions, fields, filterJoin(query.filter)) })}>
              Apply
            </button>
            <button
              type="button"
              onClick={() => {
                setConditions([]);
                onChange({ filter: "" });
              }}
            >
              Clear
            </button>
          </div>
        </fieldset>
      ) : null}
    </div>
  );
}

// "Connected file share": the server share (GET /api/server/share) folder by folder; ticked files
// and folders become CVAT's server_files (a folder as "path/", expanded by the server).
import { api } from "../../../api/client";
import { Empty, ErrorBanner, Loading, useLoad } from "../../../components/ui";

interface ShareEntry {
  name: string;
  type: "REG" | "DIR";
  mime_type: string;
}

export function ShareBrowser({ directory, onDirectory, selected, onChange, disabled }: {
  directory: string;
  onDirectory(directory: string): void;
  selected: string[];
  onChange(paths: string[]): void;
  disabled?: boolean;
}) {
  const listing = useLoad(() => api.get<ShareEntry[]>("/api/server/share", { directory: directory || "/" }), [directory]);
  const crumbs = directory.split("/").filter(Boolean);
  const toggle = (path: string, on: boolean) => onChange(on ? [...selected, path] : selected.filter((p) => p !== path));

  return (
    <div className="share-browser">
      <nav aria-label="Share folders" className="crumbs">
        <button type="button" onClick={() => onDirectory("")} aria-current={crumbs.length ? undefined : "page"}>
          share
        </button>
        {crumbs.map((name, i) => (
          <span key={i}>
            {" / "}
            <button type="button" onClick={() => onDirectory(crumbs.slice(0, i + 1).join("/") + "/")} aria-current={i === crumbs.length - 1 ? "page" : undefined}>
              {name}
            </button>
          </span>
        ))}
      </nav>
      <ErrorBanner error={listing.error} onRetry={listing.reload} />
      {listing.loading ? <Loading what="Reading the share" /> : null}
      {!listing.loading && listing.data && !listing.data.length ? <Empty>This folder of the share is empty.</Empty> : null}
      {!listing.loading && listing.data?.length ? (
        <table className="grid" aria-label="Share contents">
          <thead>
            <tr>
              <th>
                <span className="sr-only">Select</span>
              </th>
              <th>Name</th>
              <th>Type</th>
            </tr>
          </thead>
          <tbody>
            {listing.data.map((entry) => {
              const path = `${directory}${entry.name}${entry.type === "DIR" ? "/" : ""}`;
              return (
                <tr key={path}>
                  <td>
                    <input type="checkbox" aria-label={`Select ${path}`} disabled={disabled} checked={selected.includes(path)} onChange={(e) => toggle(path, e.currentTarget.checked)} />
                  </td>
                  <td>
                    {entry.type === "DIR" ? (
                      <button type="button" className="link" aria-label={`Open folder ${entry.name}`} onClick={() => onDirectory(path)}>
                        📁 {entry.name}
                      </button>
                    ) : (
                      entry.name
                    )}
                  </td>
                  <td className="muted">{entry.type === "DIR" ? "folder" : entry.mime_type}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
      <p className="muted">
        {selected.length ? `Selected: ${selected.join(", ")}` : "Nothing selected yet."}{" "}
        {selected.length ? (
          <button type="button" disabled={disabled} onClick={() => onChange([])}>
            Clear selection
          </button>
        ) : null}
      </p>
    </div>
  );
}

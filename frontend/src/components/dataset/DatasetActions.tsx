// Export dataset / export and restore backups / import annotations or a dataset, for a project,
// task or job: the buttons the project, task and job pages show in their headers, and their
// dialogs. Every action is a background request, also listed on the Requests page.
import { useState } from "react";
import { ExportDialog } from "./ExportDialog";
import { ImportDialog, ImportStatus } from "./ImportDialog";
import "./dataset.css";

export interface DatasetActionsProps {
  resource: "project" | "task" | "job";
  id: number;
  name?: string;
  onChanged?(): void; // after an import finished: reload what the page shows
}

type Open = "export" | "backup" | "import" | null;

export function DatasetActions({ resource, id, name, onChanged }: DatasetActionsProps) {
  const [open, setOpen] = useState<Open>(null);
  const close = () => setOpen(null);
  return (
    <div className="dataset-actions" role="group" aria-label="Export and import">
      <button type="button" onClick={() => setOpen("export")}>
        Export dataset
      </button>
      {resource !== "job" ? (
        <button type="button" onClick={() => setOpen("backup")}>
          Export backup
        </button>
      ) : null}
      <button type="button" onClick={() => setOpen("import")}>
        {resource === "project" ? "Import dataset" : "Import annotations"}
      </button>
      <ImportStatus resource={resource} id={id} />
      {open === "export" || open === "backup" ? <ExportDialog resource={resource} id={id} name={name} kind={open === "export" ? "dataset" : "backup"} onClose={close} /> : null}
      {open === "import" ? <ImportDialog resource={resource} id={id} name={name} onClose={close} onChanged={onChanged} /> : null}
    </div>
  );
}

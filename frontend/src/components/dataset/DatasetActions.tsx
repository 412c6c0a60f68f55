// Export dataset / export and restore backups / import annotations or a dataset, for a project,
// task or job: the buttons and their dialogs. Placeholder interface while issue 13 is built:
// the export/import helper replaces the body.
export interface DatasetActionsProps {
  resource: "project" | "task" | "job";
  id: number;
  name?: string;
  onChanged?(): void; // after an import finished: reload what the page shows
}

export function DatasetActions(_props: DatasetActionsProps) {
  return null;
}

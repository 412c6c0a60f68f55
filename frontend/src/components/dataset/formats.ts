// CVAT's format registry as the server lists it (GET /api/server/annotation/formats), and the
// formats that fit a project, task or job (enabled, of its dimension).
import { api } from "../../api/client";

export interface AnnotationFormat {
  name: string;
  ext: string; // "ZIP", "JSON, ZIP"...
  version: string;
  enabled: boolean;
  dimension: string; // "2d" | "3d"
}

export interface AnnotationFormats {
  importers: AnnotationFormat[];
  exporters: AnnotationFormat[];
}

export type DatasetResource = "project" | "task" | "job";

export async function loadFormats(resource: DatasetResource, id: number): Promise<{ formats: AnnotationFormats; dimension: string | null }> {
  const [formats, target] = await Promise.all([
    api.get<AnnotationFormats>("/api/server/annotation/formats"),
    api.get<{ dimension?: string | null }>(`/api/${resource}s/${id}`),
  ]);
  return { formats, dimension: target.dimension ?? null };
}

export function usableFormats(list: AnnotationFormat[], dimension: string | null): AnnotationFormat[] {
  return list.filter((f) => f.enabled !== false && (!dimension || !f.dimension || f.dimension === dimension));
}

/** The file types the format's importer reads, for the file input's accept (".json,.zip"). */
export function acceptOf(format: AnnotationFormat | undefined): string {
  if (!format) return ".zip";
  return format.ext
    .split(",")
    .map((e) => `.${e.trim().toLowerCase()}`)
    .filter((e) => e.length > 1)
    .join(",");
}

// A lazy preview image of a task or job (`GET /api/{tasks,jobs}/{id}/preview`); when the server
// has none (no data yet) a grey box says so instead of a broken image.
import { useState } from "react";
import { api } from "../../api/client";

export function Preview({ path, alt, large = false }: { path: string; alt: string; large?: boolean }) {
  const [failed, setFailed] = useState(false);
  return (
    <div className={`preview-box${large ? " preview-large" : ""}`}>
      {failed ? <span aria-hidden="true">No preview</span> : <img src={api.url(path)} alt={alt} loading="lazy" onError={() => setFailed(true)} />}
    </div>
  );
}

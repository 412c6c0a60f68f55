// The progress of a submit: each file's bytes and all of them (the background request's own
// progress is shown by the page).
import { formatBytes, type Progress } from "../../../lib/uploadPlan";

export function Bar({ label, fraction }: { label: string; fraction: number }) {
  const percent = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
  return (
    <div className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
      <div style={{ width: `${percent}%` }} />
    </div>
  );
}

/** `files` in the order of the upload plan (progress.files). */
export function UploadProgress({ files, progress }: { files: { name: string; size: number }[]; progress: Progress }) {
  return (
    <div className="upload-progress">
      <p>
        Uploaded {formatBytes(progress.loaded)} of {formatBytes(progress.total)} ({Math.floor(progress.fraction * 100)}%)
      </p>
      <Bar label="Upload progress" fraction={progress.fraction} />
      <ul className="upload-files" aria-label="Upload of each file">
        {files.map((file, i) => {
          const sent = progress.files[i] ?? 0;
          return (
            <li key={`${file.name}:${i}`}>
              <span>{file.name}</span>
              <Bar label={`Upload of ${file.name}`} fraction={file.size ? sent / file.size : 1} />
              <span className="muted">
                {formatBytes(sent)} / {formatBytes(file.size)}
              </span>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

// The format picker of the export and import dialogs: the formats' loading and error states, then a
// select of the usable ones (by name).
import type { Loaded } from "../ui";
import { ErrorBanner, Loading } from "../ui";

export function FormatSelect({ label, formats, names, value, onChange, disabled }: {
  label: string;
  formats: Loaded<unknown>;
  names: string[];
  value: string;
  onChange(name: string): void;
  disabled: boolean;
}) {
  return (
    <>
      <ErrorBanner error={formats.error} onRetry={formats.reload} />
      {formats.loading && !formats.data ? <Loading what="Loading formats" /> : null}
      {formats.data ? (
        <label>
          {label}
          <select value={value} onChange={(e) => onChange(e.target.value)} disabled={disabled} required>
            {names.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
      ) : null}
    </>
  );
}

// The shortcuts dialog of the annotation workspace (F1): every action by group with its keys, and
// the user's own bindings, as CVAT's Settings > Shortcuts tab. "Change" records the next key
// combination (Esc cancels), "Add" records one more; conflicts are listed, never silently
// resolved, so the user decides which action keeps a key.
import { useEffect, useId, useMemo, useState, type KeyboardEvent as ReactKeyboardEvent } from "react";
import type { ActionId, KeyAction } from "../../annotation/contracts";
import { formatSequence, isModifierKey, keyString, type KeyMap } from "../../annotation/keys";
import { Dialog } from "../../components/ui";
import "./shortcuts.css";

interface Recording {
  id: ActionId;
  mode: "replace" | "add";
}

function groupsOf(actions: readonly KeyAction[]): [string, KeyAction[]][] {
  const groups = new Map<string, KeyAction[]>();
  for (const action of actions) groups.set(action.group, [...(groups.get(action.group) ?? []), action]);
  return [...groups];
}

/** Re-renders whenever the key map changes (rebind, reset). */
function useKeyMapVersion(keymap: KeyMap): number {
  const [version, setVersion] = useState(0);
  useEffect(() => keymap.subscribe(() => setVersion((v) => v + 1)), [keymap]);
  return version;
}

function Keys({ keys, conflicting, actionName, onRemove }: { keys: string[]; conflicting: ReadonlySet<string>; actionName: string; onRemove(keys: string): void }) {
  if (keys.length === 0) return <span className="shortcuts-none">none</span>;
  return (
    <ul className="shortcuts-keys">
      {keys.map((k) => (
        <li key={k} className={conflicting.has(k) ? "conflict" : undefined}>
          <kbd>{formatSequence(k)}</kbd>
          {conflicting.has(k) ? <span className="sr-only"> (conflict)</span> : null}
          <button type="button" className="shortcuts-remove" aria-label={`Remove ${formatSequence(k)} from ${actionName}`} onClick={() => onRemove(k)}>
            ×
          </button>
        </li>
      ))}
    </ul>
  );
}

function Recorder({ name, mode, onKeys, onCancel }: { name: string; mode: Recording["mode"]; onKeys(keys: string): void; onCancel(): void }) {
  const onKeyDown = (event: ReactKeyboardEvent<HTMLButtonElement>) => {
    // every key is the user's answer: none may reach the workspace, the dialog (Esc) or focus (Tab)
    event.preventDefault();
    event.stopPropagation();
    if (isModifierKey(event.key)) return; // wait for the key that goes with Ctrl/Alt/Shift
    const keys = keyString(event.nativeEvent);
    if (!keys) return;
    if (keys === "escape") onCancel();
    else onKeys(keys);
  };
  return (
    // autoFocus: the user asked to record keys, so focus must be on the recorder
    <button type="button" className="shortcuts-recorder" autoFocus onKeyDown={onKeyDown} onBlur={onCancel} aria-label={`${mode === "add" ? "Add" : "New"} keys for ${name}: press a key combination, Escape cancels`}>
      Press keys… (Esc cancels)
    </button>
  );
}

export function ShortcutsDialog({ keymap, onClose }: { keymap: KeyMap; onClose: () => void }) {
  useKeyMapVersion(keymap);
  const prefix = useId();
  const [recording, setRecording] = useState<Recording | null>(null);
  const [returnTo, setReturnTo] = useState<ActionId | null>(null);
  const [notice, setNotice] = useState("");
  const actions = keymap.actions();
  const groups = useMemo(() => groupsOf(actions), [actions]);
  const names = useMemo(() => new Map(actions.map((a) => [a.id, a.name])), [actions]);
  const conflicts = keymap.conflicts();
  const conflictKeys = new Map<ActionId, Set<string>>();
  for (const c of conflicts) for (const id of c.actions) conflictKeys.set(id, new Set([...(conflictKeys.get(id) ?? []), c.keys]));

  const changeButtonId = (id: ActionId) => `${prefix}-change-${id}`;

  // after recording, focus goes back to the row's Change button (the recorder leaves the DOM)
  useEffect(() => {
    if (recording !== null || returnTo === null) return;
    document.getElementById(`${prefix}-change-${returnTo}`)?.focus();
    setReturnTo(null);
  }, [recording, returnTo, prefix]);

  const finish = () => {
    if (recording) setReturnTo(recording.id);
    setRecording(null);
  };

  const record = (keys: string) => {
    if (!recording) return;
    const { id, mode } = recording;
    const current = keymap.bindings(id);
    const next = mode === "add" ? [...current.filter((k) => k !== keys), keys] : [keys];
    keymap.rebind(id, next);
    const others = keymap.conflicts().find((c) => c.keys === keys && c.actions.includes(id));
    const taken = others?.actions.filter((a) => a !== id).map((a) => names.get(a) ?? a) ?? [];
    setNotice(`${names.get(id) ?? id}: ${formatSequence(keys)}${taken.length ? `, also used by ${taken.join(", ")}` : ""}.`);
    finish();
  };

  return (
    <Dialog title="Keyboard shortcuts" onClose={onClose}>
      <div className="shortcuts">
        <div className="shortcuts-toolbar">
          <p className="shortcuts-hint">Single keys do nothing while you type in a field; combinations with Ctrl or Alt always work. Cmd counts as Ctrl.</p>
          <button
            type="button"
            disabled={!keymap.isCustomized()}
            onClick={() => {
              keymap.reset();
              setNotice("All shortcuts are back to their defaults.");
            }}
          >
            Reset all
          </button>
        </div>
        <p className="shortcuts-notice" role="status" aria-live="polite">
          {notice}
        </p>
        {conflicts.length > 0 ? (
          <div className="shortcuts-conflicts" role="alert">
            <strong>Conflicts</strong> (the first action listed gets the key):
            <ul>
              {conflicts.map((c) => (
                <li key={c.keys}>
                  <kbd>{formatSequence(c.keys)}</kbd> {c.actions.map((a) => names.get(a) ?? a).join(", ")}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        <div className="shortcuts-body">
          {groups.map(([group, list]) => (
            <section key={group} aria-labelledby={`${prefix}-${group}`}>
              <h3 id={`${prefix}-${group}`}>{group}</h3>
              <table className="grid shortcuts-table">
                <thead>
                  <tr>
                    <th scope="col">Action</th>
                    <th scope="col">Keys</th>
                    <th scope="col">
                      <span className="sr-only">Change</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((action) => {
                    const keys = keymap.bindings(action.id);
                    const conflicting = conflictKeys.get(action.id) ?? new Set<string>();
                    const active = recording?.id === action.id ? recording : null;
                    return (
                      <tr key={action.id} className={conflicting.size > 0 ? "conflict" : undefined}>
                        <th scope="row">
                          <span className="shortcuts-name">{action.name}</span>
                          <span className="shortcuts-description">{action.description}</span>
                        </th>
                        <td>
                          {active ? (
                            <Recorder name={action.name} mode={active.mode} onKeys={record} onCancel={finish} />
                          ) : (
                            <Keys keys={keys} conflicting={conflicting} actionName={action.name} onRemove={(k) => keymap.rebind(action.id, keys.filter((x) => x !== k))} />
                          )}
                        </td>
                        <td className="shortcuts-buttons">
                          <button type="button" id={changeButtonId(action.id)} aria-label={`Change keys of ${action.name}`} onClick={() => setRecording({ id: action.id, mode: "replace" })}>
                            Change
                          </button>
                          <button type="button" aria-label={`Add keys to ${action.name}`} onClick={() => setRecording({ id: action.id, mode: "add" })}>
                            Add
                          </button>
                          <button type="button" aria-label={`Reset ${action.name} to ${action.defaults.map(formatSequence).join(", ") || "no keys"}`} disabled={!keymap.isCustomized(action.id)} onClick={() => keymap.reset(action.id)}>
                            Reset
                          </button>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </section>
          ))}
        </div>
        <div className="actions">
          <button type="button" className="primary" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </Dialog>
  );
}

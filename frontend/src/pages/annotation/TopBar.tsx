// The workspace's top bar: the way back to the task, the job menu, save with its status, undo and
// redo, the player, the Review toggle, the settings popover and the shortcuts button.
import type { ComponentProps } from "react";
import { Link } from "react-router";
import type { SaveState } from "../../annotation/contracts";
import { JobMenu } from "./JobMenu";
import { PlayerBar } from "./PlayerBar";
import { SettingsPanel } from "./SettingsPanel";
import { Popover } from "./Toolbar";
import { saveStatusText } from "./useSaving";
import type { JobRead, WorkspaceSettings } from "./useWorkspace";

interface TopBarProps {
  job: JobRead;
  onJob(job: JobRead): void;
  save(): Promise<SaveState>;
  saveState: SaveState;
  /** The save state with unsaved changes shown as such. */
  shownState: SaveState;
  undoName: string | null;
  redoName: string | null;
  undo(): void;
  redo(): void;
  player: ComponentProps<typeof PlayerBar>;
  reviewing: boolean;
  onReview(): void;
  settings: WorkspaceSettings;
  taskFps: number;
  onSettings(changes: Partial<WorkspaceSettings>): void;
  onShortcuts(): void;
}

export function TopBar(props: TopBarProps) {
  const { job, save, saveState, shownState, undoName, redoName, reviewing } = props;
  return (
    <header className="ws-top">
      <Link to={`/tasks/${job.task_id}`} className="brand" title="Back to the task">
        CVAT
      </Link>
      <JobMenu
        job={job}
        onJob={props.onJob}
        save={async () => {
          const state = await save();
          if (state.status !== "saved") throw new Error(state.status === "error" || state.status === "conflict" ? state.message : "The annotations are not saved yet.");
        }}
      />
      <button type="button" className="primary" onClick={() => void save()} disabled={saveState.status === "saving"} title="Save (Ctrl+S)">
        Save
      </button>
      <button type="button" aria-label="Undo" title={undoName ? `Undo: ${undoName} (Ctrl+Z)` : "Nothing to undo"} disabled={!undoName} onClick={props.undo}>
        ↶
      </button>
      <button type="button" aria-label="Redo" title={redoName ? `Redo: ${redoName} (Ctrl+Shift+Z)` : "Nothing to redo"} disabled={!redoName} onClick={props.redo}>
        ↷
      </button>
      <span className={`ws-save-status ws-save-${shownState.status}`} role="status" aria-live="polite" title={saveStatusText(shownState)}>
        {saveStatusText(shownState)}
      </span>
      <PlayerBar {...props.player} />
      <button type="button" aria-pressed={reviewing} className={reviewing ? "active" : undefined} title="Review: drag a region on the frame to open an issue" onClick={props.onReview}>
        Review
      </button>
      <Popover name="Settings" glyph="⚙" side="below-end" className="ws-settings-anchor">
        {() => <SettingsPanel settings={props.settings} taskFps={props.taskFps} onChange={props.onSettings} />}
      </Popover>
      <button type="button" aria-label="Shortcuts" title="Shortcuts (F1)" onClick={props.onShortcuts}>
        ?
      </button>
    </header>
  );
}

// The frame player: first / back a step / previous / play-pause / next / forward a step / last,
// a frame number field (validated: a job frame, not a hidden deleted one), a slider over the
// playable frames, and the frame's file name.
import { useState, type RefObject } from "react";
import { parseFrameInput, positionOf } from "./player";

interface Props {
  frame: number;
  frames: readonly number[]; // the job's frames
  playable: readonly number[]; // less the deleted ones unless shown
  deleted: ReadonlySet<number>;
  showDeleted: boolean;
  playing: boolean;
  name: string;
  inputRef: RefObject<HTMLInputElement | null>;
  onFrame(frame: number): void;
  onMove(delta: number | "first" | "last" | "step" | "-step"): void;
  onPlay(playing: boolean): void;
}

export function PlayerBar({ frame, frames, playable, deleted, showDeleted, playing, name, inputRef, onFrame, onMove, onPlay }: Props) {
  const [draft, setDraft] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const commit = () => {
    if (draft === null) return;
    const parsed = parseFrameInput(draft, frames, deleted, showDeleted);
    if (parsed.ok) {
      setError(null);
      setDraft(null);
      onFrame(parsed.frame);
    } else setError(parsed.error);
  };
  const index = Math.min(positionOf(playable, frame), Math.max(0, playable.length - 1));
  const isDeleted = deleted.has(frame);
  return (
    <div className="ws-player" role="group" aria-label="Player">
      <button type="button" aria-label="First frame" title="First frame" onClick={() => onMove("first")}>
        |◀
      </button>
      <button type="button" aria-label="Back a step" title="Back a step (C)" onClick={() => onMove("-step")}>
        ◀◀
      </button>
      <button type="button" aria-label="Previous frame" title="Previous frame (D)" onClick={() => onMove(-1)}>
        ◀
      </button>
      <button type="button" aria-label={playing ? "Pause" : "Play"} title={playing ? "Pause (Space)" : "Play (Space)"} onClick={() => onPlay(!playing)}>
        {playing ? "❚❚" : "▶"}
      </button>
      <button type="button" aria-label="Next frame" title="Next frame (F)" onClick={() => onMove(1)}>
        ▶
      </button>
      <button type="button" aria-label="Forward a step" title="Forward a step (V)" onClick={() => onMove("step")}>
        ▶▶
      </button>
      <button type="button" aria-label="Last frame" title="Last frame" onClick={() => onMove("last")}>
        ▶|
      </button>
      <input
        className="ws-frame-slider"
        type="range"
        aria-label="Frame slider"
        min={0}
        max={Math.max(0, playable.length - 1)}
        value={index}
        disabled={playable.length < 2}
        onChange={(event) => {
          const target = playable[Number(event.target.value)];
          if (target !== undefined) onFrame(target);
        }}
      />
      <div className="ws-frame-field">
        <input
          ref={inputRef}
          className="ws-frame-input"
          aria-label="Frame number"
          inputMode="numeric"
          value={draft ?? String(frame)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? "ws-frame-error" : undefined}
          onChange={(event) => {
            setDraft(event.target.value);
            setError(null);
          }}
          onBlur={() => {
            setDraft(null);
            setError(null);
          }}
          onKeyDown={(event) => {
            if (event.key === "Enter") commit();
            if (event.key === "Escape") {
              setDraft(null);
              setError(null);
              event.currentTarget.blur();
            }
          }}
        />
        {error ? (
          <span id="ws-frame-error" className="ws-frame-error" role="alert">
            {error}
          </span>
        ) : null}
      </div>
      <span className="ws-frame-name" title={name}>
        {name}
        {isDeleted ? <span className="ws-deleted"> (deleted)</span> : null}
      </span>
    </div>
  );
}

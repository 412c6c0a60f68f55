// The workspace's frames and player. useFrames: the job's frames, the deleted ones, those that can
// be shown, and the current frame (from ?frame= when it is one of them). usePlayback: moving between
// frames, skipping a deleted frame once deleted frames are hidden, keeping the neighbours decoded,
// and the play loop, which shows the next frame once a frame interval has passed and it is decoded
// (it reads the frame through refs, so it is not restarted on every frame).
import { useEffect, useMemo, useRef, useState, type Dispatch, type RefObject, type SetStateAction } from "react";
import { useSearchParams } from "react-router";
import type { FrameProviderApi } from "../../annotation/contracts";
import { jobFrames } from "../../annotation/frames/chunks";
import { firstFrame, frameInterval, lastFrame, moveFrame, playableFrames, playTick, prefetchCount, prefetchWindow } from "./player";
import type { PlayTiming } from "./useCanvasEngine";
import type { WorkspaceData } from "./useWorkspace";

export type FrameMove = number | "first" | "last" | "step" | "-step";

export interface FramesState {
  frames: number[];
  deleted: ReadonlySet<number>;
  playable: number[];
  playableRef: RefObject<number[]>;
  frame: number;
  setFrame: Dispatch<SetStateAction<number>>;
  /** The frame shown; the play loop moves it ahead of React's state. */
  frameRef: RefObject<number>;
}

export function useFrames(data: WorkspaceData, showDeleted: boolean): FramesState {
  const frames = useMemo(() => jobFrames(data.meta, data.job.start_frame), [data.meta, data.job.start_frame]);
  const deleted = useMemo(() => new Set(data.meta.deleted_frames), [data.meta]);
  const playable = useMemo(() => playableFrames(frames, deleted, showDeleted), [frames, deleted, showDeleted]);
  const [searchParams] = useSearchParams();
  const [frame, setFrame] = useState(() => {
    const asked = Number(searchParams.get("frame"));
    return searchParams.get("frame") !== null && playable.includes(asked) ? asked : firstFrame(playable, data.job.start_frame);
  });
  const frameRef = useRef(frame);
  frameRef.current = frame;
  const playableRef = useRef(playable);
  playableRef.current = playable;
  return { frames, deleted, playable, playableRef, frame, setFrame, frameRef };
}

interface PlaybackInput {
  frames: FramesState;
  provider: FrameProviderApi | null;
  fps: number;
  showDeleted: boolean;
  step: number;
  timing: PlayTiming;
}

export interface Playback {
  playing: boolean;
  setPlaying: Dispatch<SetStateAction<boolean>>;
  playingRef: RefObject<boolean>;
  move(delta: FrameMove): void;
  /** Goes to the next (or previous) frame where `matches` holds; false when there is none. */
  seek(direction: 1 | -1, matches: (frame: number) => boolean): boolean;
}

export function usePlayback({ frames, provider, fps: playFps, showDeleted, step, timing }: PlaybackInput): Playback {
  const { deleted, playable, playableRef, frame, setFrame, frameRef } = frames;
  const [playing, setPlaying] = useState(false);
  const playingRef = useRef(false);

  // "show deleted frames" turned off on a deleted frame: the next frame that can be shown
  useEffect(() => {
    if (!showDeleted && deleted.has(frame) && playable.length) setFrame(moveFrame(playable, frame, 1));
  }, [showDeleted, deleted, frame, playable, setFrame]);

  // not playing: keep the neighbours decoded (the play loop asks for its own window)
  useEffect(() => {
    if (!provider || playing) return;
    provider.prefetch(prefetchWindow(playable, frame, 8));
  }, [provider, playing, playable, frame]);

  // the play loop: the next frame once a frame interval has passed and it is decoded, never further
  playingRef.current = playing;
  useEffect(() => {
    if (!playing || !provider) return;
    const fps = playFps;
    let raf = 0;
    let shownAt = performance.now();
    let askedAt = shownAt;
    provider.prefetch(prefetchWindow(playableRef.current, frameRef.current, prefetchCount(fps)));
    const tick = () => {
      const now = performance.now();
      const step = playTick(playableRef.current, frameRef.current, shownAt, now, fps, (f) => provider.peek(f) !== null);
      if (step.action === "stop") {
        setPlaying(false);
        return;
      }
      if (step.action === "show") {
        timing.asked.set(step.frame, shownAt + frameInterval(fps));
        shownAt = step.at;
        askedAt = now;
        frameRef.current = step.frame;
        setFrame(step.frame);
        provider.prefetch(prefetchWindow(playableRef.current, step.frame, prefetchCount(fps)));
      } else if (now - askedAt > 500) {
        askedAt = now; // buffering: ask again (a decode may have failed)
        provider.prefetch(prefetchWindow(playableRef.current, frameRef.current, prefetchCount(fps)));
      }
      raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(raf);
  }, [playing, provider, playFps, playableRef, frameRef, setFrame, timing]);

  const move = (delta: FrameMove) => {
    const f = frameRef.current;
    const next =
      delta === "first"
        ? firstFrame(playable, f)
        : delta === "last"
          ? lastFrame(playable, f)
          : delta === "step"
            ? moveFrame(playable, f, step)
            : delta === "-step"
              ? moveFrame(playable, f, -step)
              : moveFrame(playable, f, delta);
    setFrame(next);
  };

  const seek = (direction: 1 | -1, matches: (frame: number) => boolean): boolean => {
    let f = frameRef.current;
    for (let i = 0; i < playable.length; i++) {
      const next = moveFrame(playable, f, direction);
      if (next === f) break;
      f = next;
      if (matches(f)) {
        setFrame(f);
        return true;
      }
    }
    return false;
  };

  return { playing, setPlaying, playingRef, move, seek };
}

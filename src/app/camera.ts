/**
 * The camera as a data source (Teachable Machine's way in): open a camera with
 * getUserMedia, record frames from its <video> at a steady rate while a button
 * is held, encode each as a PNG, and hand them over as files — which then take
 * the same ingest path as dropped files (components/data/classImages.ts →
 * app/ingest.ts addFiles: sniffing, header, hash, duplicates, decoding at the
 * model's input size and resize mode). Permission denied, no camera, and a
 * camera lost mid-capture each get their own message; stopping releases it.
 */
import { refused, type Result } from '../core/result';
import type { DroppedFile } from '../data/dropWalk';

/** Frames recorded per second while the record button is held. */
export const CAPTURE_FPS = 5;
/** A recorded frame's longer side at most (the ingest resizes it to the model's input anyway). */
export const CAPTURE_MAX_SIDE = 640;

/** Why a camera could not be opened or was lost. */
export type CameraErrorCode = 'no-media-devices' | 'permission-denied' | 'no-camera' | 'camera-busy' | 'camera-lost' | 'camera-failed';

/** What getUserMedia's refusal means for the user: a sentence that says what happened and what to do. */
export function cameraErrorMessage(error: unknown): { code: CameraErrorCode; reason: string } {
  const name = error instanceof Error || (typeof error === 'object' && error !== null && 'name' in error) ? String((error as { name: unknown }).name) : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return {
        code: 'permission-denied',
        reason:
          'Camera permission was denied. Allow the camera for this page (the camera icon in the address bar, or the site settings), then press Capture from camera again.',
      };
    case 'NotFoundError':
    case 'OverconstrainedError':
    case 'DevicesNotFoundError':
      return {
        code: 'no-camera',
        reason: 'No camera was found. Connect a camera (or enable it in the system settings), then press Capture from camera again.',
      };
    case 'NotReadableError':
    case 'AbortError':
      return { code: 'camera-busy', reason: 'The camera could not be started: another application may be using it. Close that application and try again.' };
    default: {
      const detail = error instanceof Error && error.message ? `: ${error.message}` : '';
      return { code: 'camera-failed', reason: `The camera could not be opened${detail}. Try again, or add images from files instead.` };
    }
  }
}

/** The message when the camera stops while the preview is open (unplugged, taken by another app, permission revoked). */
export function cameraLostMessage(framesAdded: number): string {
  const kept =
    framesAdded > 0 ? ` The ${framesAdded} ${framesAdded === 1 ? 'frame' : 'frames'} recorded before that ${framesAdded === 1 ? 'was' : 'were'} kept.` : '';
  return `The camera was lost during capture (disconnected, or taken by another application).${kept} Reconnect it and press Capture from camera again.`;
}

/** An open camera: its stream for the preview, `onLost` when its video track ends by itself, and `stop` to release it. */
export interface CameraSession {
  stream: MediaStream;
  /** Releases the camera (every track stopped); a stop is not reported as lost. */
  stop(): void;
}

/** Opens the first camera; `onLost` is called once if its track ends without `stop` (a camera lost mid-capture). */
export async function openCamera(
  onLost: () => void,
  media: Pick<MediaDevices, 'getUserMedia'> | undefined = globalThis.navigator?.mediaDevices,
): Promise<Result<{ session: CameraSession }, CameraErrorCode>> {
  if (!media?.getUserMedia) {
    return refused(
      'no-media-devices',
      'This browser gives the page no camera (it needs a secure page, https or localhost, and camera support). Add images from files instead.',
    );
  }
  let stream: MediaStream;
  try {
    stream = await media.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
  } catch (error) {
    const { code, reason } = cameraErrorMessage(error);
    return refused(code, reason);
  }
  const tracks = stream.getVideoTracks();
  if (tracks.length === 0) {
    for (const track of stream.getTracks()) track.stop();
    return refused('no-camera', 'The camera gave no video. Connect a camera, then press Capture from camera again.');
  }
  let stopped = false;
  const ended = () => {
    if (stopped) return;
    stopped = true;
    for (const track of stream.getTracks()) track.stop();
    onLost();
  };
  for (const track of tracks) track.addEventListener('ended', ended);
  const stop = () => {
    if (stopped) return;
    stopped = true;
    for (const track of stream.getTracks()) {
      track.removeEventListener('ended', ended);
      track.stop();
    }
  };
  return { ok: true, session: { stream, stop } };
}

/** The size a frame of `width`×`height` is recorded at: the same, or scaled down so its longer side is CAPTURE_MAX_SIDE. */
export function captureSize(width: number, height: number, maxSide = CAPTURE_MAX_SIDE): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height, 1));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * Whether a grab would record the same video frame as the last one (`seen` keeps the count of frames the video
 * had presented at the last grab): a camera that stalls — a busy machine, a slow device — would otherwise give
 * byte-identical PNGs, which the ingest then refuses as duplicates. Null counts (no playback quality) never skip.
 */
export function sameFrameAgain(presented: number | null | undefined, seen: { frames: number | null }): boolean {
  if (presented === null || presented === undefined || presented === 0) return false;
  if (presented === seen.frames) return true;
  seen.frames = presented;
  return false;
}

/** The video's current frame as a PNG blob, or null while it has no frame yet or still shows the frame grabbed last. */
export async function grabFrame(video: HTMLVideoElement, canvas: HTMLCanvasElement, seen: { frames: number | null } = { frames: null }): Promise<Blob | null> {
  if (video.readyState < 2 || video.videoWidth === 0) return null; // 2: HAVE_CURRENT_DATA
  if (sameFrameAgain(video.getVideoPlaybackQuality?.().totalVideoFrames, seen)) return null;
  const { width, height } = captureSize(video.videoWidth, video.videoHeight);
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d');
  if (!context) return null;
  context.drawImage(video, 0, 0, width, height);
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
}

/** Records frames at a steady rate: `start` on press, `stop` on release answers the frames in order. */
export interface FrameRecorder {
  start(): void;
  /** Stops the timer, waits for the frames still being encoded, and answers every frame recorded since `start`. */
  stop(): Promise<Blob[]>;
  readonly recording: boolean;
}

/**
 * A recorder calling `grab` every 1000 / `fps` ms (one frame at once: a tick while the previous frame is still
 * being encoded is skipped, so a slow machine records fewer frames, never a pile-up); `onCount` hears the
 * count after each frame.
 */
export function createFrameRecorder(grab: () => Promise<Blob | null>, onCount: (count: number) => void, fps = CAPTURE_FPS): FrameRecorder {
  let timer: ReturnType<typeof setInterval> | null = null;
  let frames: Blob[] = [];
  let pending: Promise<void> | null = null;
  const tick = () => {
    if (pending) return;
    pending = grab()
      .then((blob) => {
        if (blob) {
          frames.push(blob);
          onCount(frames.length);
        }
      })
      .catch(() => undefined)
      .finally(() => {
        pending = null;
      });
  };
  return {
    start() {
      if (timer !== null) return;
      frames = [];
      onCount(0);
      tick(); // the first frame at the press, then at the steady rate
      timer = setInterval(tick, 1000 / fps);
    },
    async stop() {
      if (timer !== null) clearInterval(timer);
      timer = null;
      await pending;
      const out = frames;
      frames = [];
      return out;
    },
    get recording() {
      return timer !== null;
    },
  };
}

/** The next free camera frame number in `className`: one past the highest `camera-<n>.png` it already holds. */
export function nextCameraIndex(images: readonly { className: string; path: string }[], className: string): number {
  let highest = 0;
  for (const image of images) {
    if (image.className !== className) continue;
    const match = /(?:^|\/)camera-(\d+)\.png$/.exec(image.path);
    if (match) highest = Math.max(highest, Number(match[1]));
  }
  return highest + 1;
}

/** Recorded frames as files named `camera-<n>.png` from `first` on (the class folder is added by the ingest's caller). */
export function cameraFrameFiles(frames: readonly Blob[], first: number): DroppedFile[] {
  return frames.map((blob, i) => ({ path: `camera-${first + i}.png`, blob }));
}

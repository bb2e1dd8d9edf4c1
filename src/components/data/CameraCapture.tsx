import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import {
  CAPTURE_FPS,
  cameraFrameFiles,
  cameraLostMessage,
  createFrameRecorder,
  grabFrame,
  nextCameraIndex,
  openCamera,
  type CameraSession,
  type FrameRecorder,
} from '../../app/camera';
import { formatCount } from '../../core/format';
import { useStudio } from '../../store/store';
import { addImagesToClass } from './classImages';

/** Props of `CameraCapture`: the class the frames go to, and whether images may be added now (no ingest running). */
export interface CameraCaptureProps {
  name: string;
  editable: boolean;
}

type Phase = 'closed' | 'opening' | 'open';

const plural = (count: number, word: string) => `${formatCount(count)} ${word}${count === 1 ? '' : 's'}`;

const imagesIn = (name: string) => useStudio.getState().images.filter((image) => image.className === name).length;

/** The hold-to-record button: recording while the pointer is held on it, or while Space is down with it focused. */
function HoldToRecord({ name, recording, editable, start, finish }: { name: string; recording: boolean; editable: boolean; start(): void; finish(): void }) {
  const onKey = (event: KeyboardEvent, down: boolean) => {
    if (event.key !== ' ') return;
    event.preventDefault();
    if (!down) finish();
    else if (!event.repeat) start();
  };
  return (
    <button
      type="button"
      className="small-button primary camera-record"
      // The text stays "Hold to record" (the accessible name contains it); pressed and the counter say it records.
      aria-label={`Hold to record frames into ${name}`}
      aria-pressed={recording}
      disabled={!editable && !recording}
      onPointerDown={(event) => {
        event.currentTarget.setPointerCapture?.(event.pointerId);
        start();
      }}
      onPointerUp={finish}
      onPointerCancel={finish}
      onBlur={finish}
      onKeyDown={(event) => onKey(event, true)}
      onKeyUp={(event) => onKey(event, false)}
    >
      Hold to record
    </button>
  );
}

/** One class's camera: its session, recorder and messages, and the actions on them (see CameraCapture). */
function useCamera(name: string, editable: boolean) {
  const [phase, setPhase] = useState<Phase>('closed');
  const [error, setError] = useState<string | null>(null);
  const [recording, setRecording] = useState(false);
  const [count, setCount] = useState(0);
  const [status, setStatus] = useState('');
  const session = useRef<CameraSession | null>(null);
  const recorder = useRef<FrameRecorder | null>(null);
  const video = useRef<HTMLVideoElement>(null);
  const canvas = useRef<HTMLCanvasElement | null>(null);
  const finishing = useRef<Promise<number> | null>(null);

  /** Stops recording and sends the frames to the ingest; answers how many images the class gained. */
  const finish = (): Promise<number> => {
    const active = recorder.current;
    if (!active?.recording) return finishing.current ?? Promise.resolve(0);
    setRecording(false);
    finishing.current = (async () => {
      const frames = await active.stop();
      if (frames.length === 0) return 0;
      setStatus(`Adding ${plural(frames.length, 'frame')} to ${name}…`);
      const before = imagesIn(name);
      await addImagesToClass(name, cameraFrameFiles(frames, nextCameraIndex(useStudio.getState().images, name)));
      const added = imagesIn(name) - before;
      const refused = frames.length - added;
      setStatus(`Added ${plural(added, 'frame')} to ${name}${refused > 0 ? `; ${formatCount(refused)} refused (see Rejected files)` : ''}.`);
      return added;
    })().finally(() => {
      finishing.current = null;
    });
    return finishing.current;
  };

  const open = async () => {
    setError(null);
    setStatus('');
    setPhase('opening');
    const opened = await openCamera(() => {
      // The camera went away by itself: keep what was recorded, say so, close the preview.
      session.current = null;
      setPhase('closed');
      void finish().then((added) => setError(cameraLostMessage(added)));
    });
    if (!opened.ok) {
      setError(opened.reason);
      setPhase('closed');
      return;
    }
    session.current = opened.session;
    canvas.current ??= document.createElement('canvas');
    const seen = { frames: null }; // the video frame grabbed last: a stalled camera's repeat is not recorded again
    const grab = () => (video.current && canvas.current ? grabFrame(video.current, canvas.current, seen) : Promise.resolve(null));
    recorder.current = createFrameRecorder(grab, setCount);
    setPhase('open');
  };

  const close = () => {
    void finish();
    session.current?.stop();
    session.current = null;
    setPhase('closed');
  };

  const start = () => {
    if (!editable || !recorder.current || recorder.current.recording) return;
    setStatus('');
    recorder.current.start();
    setRecording(true);
  };

  useEffect(() => {
    if (phase !== 'open' || !video.current || !session.current) return;
    video.current.srcObject = session.current.stream;
    void video.current.play().catch(() => undefined);
  }, [phase]);

  // Leaving the page or deleting the class releases the camera.
  useEffect(() => () => session.current?.stop(), []);

  return { phase, error, recording, count, status, video, open, close, start, finish: () => void finish() };
}

/**
 * *Capture from camera* for one class: a live preview, a hold-to-record button (pointer held, or Space while it
 * has focus) that records CAPTURE_FPS frames a second with a counter, and Stop camera, which releases it. On
 * release the frames go through the same ingest as dropped files (addImagesToClass → addFiles) as
 * `single images/<class>/camera-<n>.png`, decoded at the model's input size and resize mode.
 */
export function CameraCapture({ name, editable }: CameraCaptureProps) {
  const camera = useCamera(name, editable);
  const { phase, recording } = camera;
  return (
    <div className="camera-capture">
      {phase === 'closed' ? (
        <button type="button" className="small-button" aria-label={`Capture from camera into ${name}`} disabled={!editable} onClick={() => void camera.open()}>
          Capture from camera
        </button>
      ) : null}
      {phase === 'opening' ? (
        <p className="muted small" role="status">
          Opening the camera…
        </p>
      ) : null}
      {phase === 'open' ? (
        <div className="camera-panel" role="group" aria-label={`Camera for ${name}`}>
          <video ref={camera.video} className="camera-preview" aria-label={`Camera preview for ${name}`} muted playsInline autoPlay />
          <div className="class-actions">
            <HoldToRecord name={name} recording={recording} editable={editable} start={camera.start} finish={camera.finish} />
            <button type="button" className="small-button" aria-label={`Stop camera for ${name}`} onClick={camera.close}>
              Stop camera
            </button>
          </div>
          <p className="muted small" role="status" aria-live="polite" data-testid={`camera-count-${name}`}>
            {recording
              ? `${plural(camera.count, 'frame')} recorded`
              : camera.status || `Hold the button (or Space) to record ${CAPTURE_FPS} frames a second into ${name}.`}
          </p>
        </div>
      ) : null}
      {camera.error ? (
        <p className="error small" role="alert">
          {camera.error}
        </p>
      ) : null}
    </div>
  );
}

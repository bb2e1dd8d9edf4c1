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

/** The preview fits the card whatever the stylesheet says (a camera's 640×480 would not). */
const PREVIEW_STYLE = { display: 'block', width: '100%', maxWidth: 320, height: 'auto', borderRadius: 6, background: '#000' } as const;

const plural = (count: number, word: string) => `${formatCount(count)} ${word}${count === 1 ? '' : 's'}`;

const imagesIn = (name: string) => useStudio.getState().images.filter((image) => image.className === name).length;

/**
 * *Capture from camera* for one class: a live preview, a hold-to-record button (pointer held, or Space while it
 * has focus) that records CAPTURE_FPS frames a second with a counter, and Stop camera, which releases it. On
 * release the frames go through the same ingest as dropped files (addImagesToClass → addFiles) as
 * `single images/<class>/camera-<n>.png`, decoded at the model's input size and resize mode.
 */
export function CameraCapture({ name, editable }: CameraCaptureProps) {
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

  const close = () => {
    void finish();
    session.current?.stop();
    session.current = null;
    setPhase('closed');
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
    recorder.current = createFrameRecorder(
      () => (video.current && canvas.current ? grabFrame(video.current, canvas.current, seen) : Promise.resolve(null)),
      setCount,
    );
    setPhase('open');
  };

  useEffect(() => {
    if (phase !== 'open' || !video.current || !session.current) return;
    video.current.srcObject = session.current.stream;
    void video.current.play().catch(() => undefined);
  }, [phase]);

  // Leaving the page or deleting the class releases the camera.
  useEffect(() => () => session.current?.stop(), []);

  const start = () => {
    if (!editable || !recorder.current || recorder.current.recording) return;
    setStatus('');
    recorder.current.start();
    setRecording(true);
  };
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key !== ' ') return;
    event.preventDefault();
    if (!event.repeat) start();
  };
  const onKeyUp = (event: KeyboardEvent) => {
    if (event.key !== ' ') return;
    event.preventDefault();
    void finish();
  };

  return (
    <div className="camera-capture">
      {phase === 'closed' ? (
        <button type="button" className="small-button" aria-label={`Capture from camera into ${name}`} disabled={!editable} onClick={() => void open()}>
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
          <video ref={video} className="camera-preview" style={PREVIEW_STYLE} aria-label={`Camera preview for ${name}`} muted playsInline autoPlay />
          <div className="class-actions">
            <button
              type="button"
              className={`small-button primary camera-record${recording ? ' on' : ''}`}
              aria-label={`Hold to record frames into ${name}`}
              aria-pressed={recording}
              disabled={!editable && !recording}
              onPointerDown={(event) => {
                event.currentTarget.setPointerCapture?.(event.pointerId);
                start();
              }}
              onPointerUp={() => void finish()}
              onPointerCancel={() => void finish()}
              onBlur={() => void finish()}
              onKeyDown={onKeyDown}
              onKeyUp={onKeyUp}
            >
              {recording ? '● Recording…' : 'Hold to record'}
            </button>
            <button type="button" className="small-button" aria-label={`Stop camera for ${name}`} onClick={close}>
              Stop camera
            </button>
          </div>
          <p className="muted small" role="status" aria-live="polite" data-testid={`camera-count-${name}`}>
            {recording ? `${plural(count, 'frame')} recorded` : status || `Hold the button (or Space) to record ${CAPTURE_FPS} frames a second into ${name}.`}
          </p>
        </div>
      ) : null}
      {error ? (
        <p className="error small" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  cameraErrorMessage,
  cameraFrameFiles,
  cameraLostMessage,
  captureSize,
  createFrameRecorder,
  nextCameraIndex,
  openCamera,
  sameFrameAgain,
} from './camera';

/** A MediaStream stand-in: one video track that can end by itself (`lose`) and records whether it was stopped. */
function fakeStream(videoTracks = 1) {
  const tracks = Array.from({ length: videoTracks }, () => {
    const target = new EventTarget();
    return Object.assign(target, {
      kind: 'video',
      stopped: false,
      stop: vi.fn(function (this: { stopped: boolean }) {
        this.stopped = true;
      }),
    });
  });
  const stream = { getVideoTracks: () => tracks, getTracks: () => tracks } as unknown as MediaStream;
  return { stream, tracks, lose: () => tracks[0].dispatchEvent(new Event('ended')) };
}

const domError = (name: string, message = '') => Object.assign(new Error(message), { name });

describe('cameraErrorMessage', () => {
  it('names permission denied, no camera and a busy camera each in its own words', () => {
    expect(cameraErrorMessage(domError('NotAllowedError'))).toMatchObject({
      code: 'permission-denied',
      reason: expect.stringContaining('Camera permission was denied'),
    });
    expect(cameraErrorMessage(domError('NotFoundError'))).toMatchObject({ code: 'no-camera', reason: expect.stringContaining('No camera was found') });
    expect(cameraErrorMessage(domError('OverconstrainedError')).code).toBe('no-camera');
    expect(cameraErrorMessage(domError('NotReadableError')).reason).toContain('another application');
    expect(cameraErrorMessage(domError('TypeError', 'bad constraints'))).toEqual({
      code: 'camera-failed',
      reason: 'The camera could not be opened: bad constraints. Try again, or add images from files instead.',
    });
  });

  it('says how many frames were kept when the camera is lost', () => {
    expect(cameraLostMessage(0)).not.toContain('kept');
    expect(cameraLostMessage(1)).toContain('The 1 frame recorded before that was kept.');
    expect(cameraLostMessage(12)).toContain('The 12 frames recorded before that were kept.');
  });
});

describe('openCamera', () => {
  it('refuses without mediaDevices, and maps a rejected getUserMedia to its message', async () => {
    expect(await openCamera(() => {}, undefined)).toMatchObject({ ok: false, code: 'no-media-devices' });
    const denied = { getUserMedia: () => Promise.reject(domError('NotAllowedError')) };
    expect(await openCamera(() => {}, denied)).toMatchObject({ ok: false, code: 'permission-denied' });
    const none = { getUserMedia: () => Promise.resolve(fakeStream(0).stream) };
    expect(await openCamera(() => {}, none)).toMatchObject({ ok: false, code: 'no-camera' });
  });

  it('stop releases every track and is not reported as lost; a track ending by itself is, once', async () => {
    const first = fakeStream();
    const lost = vi.fn();
    const opened = await openCamera(lost, { getUserMedia: () => Promise.resolve(first.stream) });
    if (!opened.ok) throw new Error(opened.reason);
    opened.session.stop();
    expect(first.tracks[0].stopped).toBe(true);
    first.lose();
    expect(lost).not.toHaveBeenCalled();

    const second = fakeStream();
    const reopened = await openCamera(lost, { getUserMedia: () => Promise.resolve(second.stream) });
    if (!reopened.ok) throw new Error(reopened.reason);
    second.lose();
    second.lose();
    expect(lost).toHaveBeenCalledTimes(1);
    expect(second.tracks[0].stopped).toBe(true);
  });
});

describe('createFrameRecorder', () => {
  afterEach(() => vi.useRealTimers());

  it('records one frame at the press and then 5 a second, counting each, until stop answers them in order', async () => {
    vi.useFakeTimers();
    let n = 0;
    const counts: number[] = [];
    const recorder = createFrameRecorder(
      async () => new Blob([String(++n)]),
      (c) => counts.push(c),
      5,
    );
    recorder.start();
    expect(recorder.recording).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    const frames = await recorder.stop();
    expect(recorder.recording).toBe(false);
    expect(frames).toHaveLength(6); // at 0, 200, 400, 600, 800 and 1000 ms
    expect(await Promise.all(frames.map((f) => f.text()))).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(counts).toEqual([0, 1, 2, 3, 4, 5, 6]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(n).toBe(6); // nothing after stop
  });

  it('skips a tick while a frame is still being encoded, and a video without a frame yet records nothing', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const slow = createFrameRecorder(
      () => {
        calls++;
        return new Promise<Blob>((resolve) => setTimeout(() => resolve(new Blob(['x'])), 450));
      },
      () => {},
    );
    slow.start();
    await vi.advanceTimersByTimeAsync(1000);
    const stopping = slow.stop(); // waits for the frame still being encoded
    await vi.advanceTimersByTimeAsync(500);
    expect((await stopping).length).toBe(calls);
    expect(calls).toBeLessThanOrEqual(3);
    const empty = createFrameRecorder(
      async () => null,
      () => {},
    );
    empty.start();
    await vi.advanceTimersByTimeAsync(600);
    expect(await empty.stop()).toEqual([]);
  });
});

describe('sameFrameAgain', () => {
  it('skips a grab while the video has presented no new frame since the last one; without a count it never skips', () => {
    const seen = { frames: null as number | null };
    expect(sameFrameAgain(10, seen)).toBe(false);
    expect(sameFrameAgain(10, seen)).toBe(true);
    expect(sameFrameAgain(11, seen)).toBe(false);
    expect(sameFrameAgain(undefined, seen)).toBe(false);
    expect(sameFrameAgain(0, seen)).toBe(false);
  });
});

describe('frame files', () => {
  it('numbers frames camera-<n>.png after the highest already in the class', () => {
    const images = [
      { className: 'cat', path: 'single images/cat/camera-3.png' },
      { className: 'cat', path: 'single images/cat/photo.png' },
      { className: 'dog', path: 'single images/dog/camera-9.png' },
    ];
    expect(nextCameraIndex(images, 'cat')).toBe(4);
    expect(nextCameraIndex(images, 'bird')).toBe(1);
    const files = cameraFrameFiles([new Blob(['a']), new Blob(['b'])], 4);
    expect(files.map((f) => f.path)).toEqual(['camera-4.png', 'camera-5.png']);
  });

  it('keeps small frames and scales large ones down to a 640 px longer side', () => {
    expect(captureSize(320, 240)).toEqual({ width: 320, height: 240 });
    expect(captureSize(1280, 720)).toEqual({ width: 640, height: 360 });
  });
});

/**
 * The local provider's text-to-speech: an offline, deterministic synthesiser that needs no model.
 * It does not sound human and is not meant to. Each character becomes a short sound by its class:
 * a vowel is a voiced "formant" chord (the fundamental plus the harmonics nearest the vowel's
 * first two formants), a voiced consonant a low buzz, an unvoiced one a burst of coloured noise, a
 * digit a pure tone, other letters a vowel-like chord, whitespace and punctuation a pause (longer
 * after `, ; :`, longer still after `. ! ?`). Every sound fades in and out over 4 ms, so segments
 * do not click.
 *
 * Output: 16-bit signed little-endian PCM, mono, 24 kHz (what OpenAI's `pcm` is); `wav` is the
 * same samples behind a 44-byte RIFF/WAVE header. Durations are divided by `speed`; the voice
 * (OpenAI's names) sets the fundamental, from onyx (85 Hz) to shimmer (240 Hz). The same request
 * gives the same bytes: the noise comes from a xorshift generator seeded by each character and its
 * position, and nothing else varies. The audio is generated as it is read (half a second per
 * chunk), so a long input never sits in memory and a reader that stops stops the synthesis.
 */

export const SAMPLE_RATE = 24_000;
const BYTES_PER_SAMPLE = 2;
const WAV_HEADER_BYTES = 44;
/** Samples generated per read: half a second. */
const CHUNK_SAMPLES = SAMPLE_RATE / 2;
/** Fade in and out over 4 ms. */
const FADE_SAMPLES = (SAMPLE_RATE * 4) / 1000;
/** Peak level: 30 % of full scale, leaving headroom. */
const LEVEL = 0.3 * 32_767;

/** OpenAI's voice names and the fundamental (Hz) each one gets. */
export const LOCAL_VOICES: Readonly<Record<string, number>> = {
  alloy: 140,
  ash: 112,
  ballad: 125,
  cedar: 105,
  coral: 205,
  echo: 100,
  fable: 165,
  marin: 195,
  nova: 220,
  onyx: 85,
  sage: 185,
  shimmer: 240,
  verse: 130,
};

type Sound =
  | { kind: "pause" }
  | { kind: "vowel"; f1: number; f2: number }
  | { kind: "buzz"; f2: number }
  | { kind: "hiss"; bright: number }
  | { kind: "tone"; ratio: number };

interface Segment {
  sound: Sound;
  samples: number;
  /** The fundamental of this segment (the voice's, with a slight deterministic intonation). */
  pitch: number;
  seed: number;
}

/** First two formants (Hz) of the vowels, after Peterson & Barney's averages. */
const VOWELS: Readonly<Record<string, [number, number]>> = {
  a: [730, 1090],
  e: [530, 1840],
  i: [270, 2290],
  o: [570, 840],
  u: [300, 870],
  y: [390, 1990],
};
const VOICED = new Set("bdgjlmnrvwz");
const PLOSIVES = new Set("kpqt");
const BRIGHT = new Set("csx");

/** What one character sounds like, and for how long at speed 1 (ms). */
function soundOf(char: string): { sound: Sound; ms: number } {
  if (/\s/u.test(char)) return { sound: { kind: "pause" }, ms: 50 };
  if (/[.!?…。！？]/u.test(char)) return { sound: { kind: "pause" }, ms: 260 };
  if (/[,;:，；：]/u.test(char)) return { sound: { kind: "pause" }, ms: 140 };
  const base = (char.normalize("NFD")[0] ?? char).toLowerCase();
  const formants = VOWELS[base];
  if (formants) return { sound: { kind: "vowel", f1: formants[0], f2: formants[1] }, ms: 90 };
  if (VOICED.has(base)) return { sound: { kind: "buzz", f2: 800 + (base.charCodeAt(0) % 7) * 150 }, ms: 55 };
  if (PLOSIVES.has(base)) return { sound: { kind: "hiss", bright: 0.6 }, ms: 35 };
  if (/[a-z]/.test(base)) return { sound: { kind: "hiss", bright: BRIGHT.has(base) ? 0.9 : 0.3 }, ms: 50 };
  if (/[0-9]/.test(base)) return { sound: { kind: "tone", ratio: 1 + Number(base) / 9 }, ms: 80 };
  const code = char.codePointAt(0) ?? 0;
  if (/\p{L}/u.test(char)) {
    return { sound: { kind: "vowel", f1: 300 + (code % 11) * 45, f2: 900 + (code % 13) * 110 }, ms: 80 };
  }
  if (/\p{P}/u.test(char)) return { sound: { kind: "pause" }, ms: 30 };
  return { sound: { kind: "tone", ratio: 1.5 }, ms: 60 };
}

/** The segments of `input` and how many samples they make in all. */
export function planSpeech(
  input: string,
  fundamental: number,
  speed: number,
): { segments: Segment[]; samples: number } {
  const segments: Segment[] = [];
  let samples = 0;
  let index = 0;
  for (const char of input) {
    const { sound, ms } = soundOf(char);
    const length = Math.max(1, Math.round((ms * SAMPLE_RATE) / 1000 / speed));
    // A small rise and fall over every five characters, so it is not one flat note.
    const pitch = fundamental * (1 + (0.04 * ((index % 5) - 2)) / 2);
    const seed = (Math.imul(char.codePointAt(0) ?? 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0 || 1;
    segments.push({ sound, samples: length, pitch, seed });
    samples += length;
    index++;
  }
  return { segments, samples };
}

/** The 44-byte header of a 16-bit mono 24 kHz PCM WAV file holding `dataBytes` of samples. */
export function wavHeader(dataBytes: number): Uint8Array {
  const header = new Uint8Array(WAV_HEADER_BYTES);
  const view = new DataView(header.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) header[offset + i] = text.charCodeAt(i);
  };
  ascii(0, "RIFF");
  view.setUint32(4, WAV_HEADER_BYTES - 8 + dataBytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true); // size of the fmt chunk
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, SAMPLE_RATE, true);
  view.setUint32(28, SAMPLE_RATE * BYTES_PER_SAMPLE, true); // byte rate
  view.setUint16(32, BYTES_PER_SAMPLE, true); // block align
  view.setUint16(34, 8 * BYTES_PER_SAMPLE, true); // bits per sample
  ascii(36, "data");
  view.setUint32(40, dataBytes, true);
  return header;
}

/** Writes the samples of a plan, in order, a chunk at a time. */
class Synthesiser {
  readonly #segments: readonly Segment[];
  #segment = 0;
  #offset = 0;
  #noise = 1;
  #lowpass = 0;
  /** The current segment's fade length and its three frequencies (rad per sample). */
  #fade = 0;
  #w0 = 0;
  #w1 = 0;
  #w2 = 0;

  constructor(segments: readonly Segment[]) {
    this.#segments = segments;
    this.#enter();
  }

  /** Up to `max` more samples as little-endian bytes; empty at the end. */
  next(max: number): Uint8Array {
    const out = new Uint8Array(max * BYTES_PER_SAMPLE);
    const view = new DataView(out.buffer);
    let written = 0;
    while (written < max && this.#segment < this.#segments.length) {
      const segment = this.#segments[this.#segment]!;
      view.setInt16(written * BYTES_PER_SAMPLE, this.#sample(segment, this.#offset), true);
      written++;
      if (++this.#offset >= segment.samples) {
        this.#segment++;
        this.#enter();
      }
    }
    return written === max ? out : out.slice(0, written * BYTES_PER_SAMPLE);
  }

  #enter(): void {
    this.#offset = 0;
    this.#lowpass = 0;
    const segment = this.#segments[this.#segment];
    if (!segment) return;
    this.#noise = segment.seed;
    this.#fade = Math.min(FADE_SAMPLES, Math.floor(segment.samples / 2));
    const { sound, pitch } = segment;
    const perSample = (hz: number) => (2 * Math.PI * hz) / SAMPLE_RATE;
    const harmonic = (formant: number) => Math.max(1, Math.round(formant / pitch)) * pitch;
    this.#w0 = perSample(sound.kind === "tone" ? pitch * sound.ratio : pitch);
    this.#w1 = perSample(sound.kind === "vowel" ? harmonic(sound.f1) : sound.kind === "buzz" ? harmonic(sound.f2) : 0);
    this.#w2 = perSample(sound.kind === "vowel" ? harmonic(sound.f2) : 0);
  }

  /** Deterministic white noise in [-1, 1) (xorshift32). */
  #white(): number {
    let x = this.#noise;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#noise = x >>> 0;
    return this.#noise / 0x80000000 - 1;
  }

  #sample(segment: Segment, i: number): number {
    const { sound, samples } = segment;
    if (sound.kind === "pause") return 0;
    const fade = this.#fade;
    const envelope = fade === 0 ? 1 : Math.min(1, i / fade, (samples - 1 - i) / fade);
    let value: number;
    switch (sound.kind) {
      case "vowel":
        value = 0.5 * Math.sin(i * this.#w0) + 0.3 * Math.sin(i * this.#w1) + 0.2 * Math.sin(i * this.#w2);
        break;
      case "buzz":
        value = 0.6 * Math.sin(i * this.#w0) + 0.25 * Math.sin(i * this.#w1) + 0.15 * this.#white();
        break;
      case "hiss": {
        const white = this.#white();
        this.#lowpass += 0.15 * (white - this.#lowpass);
        value = 0.6 * (sound.bright * (white - this.#lowpass) + (1 - sound.bright) * this.#lowpass);
        break;
      }
      case "tone":
        value = Math.sin(i * this.#w0);
        break;
    }
    return Math.round(value * envelope * LEVEL);
  }
}

/**
 * The speech of `input` as a stream generated on demand: `wav` (header, then samples) or raw
 * `pcm`; `bytes` is the stream's exact length.
 */
export function synthesise(
  input: string,
  options: { fundamental: number; speed: number; format: "wav" | "pcm" },
): { audio: ReadableStream<Uint8Array>; bytes: number } {
  const { segments, samples } = planSpeech(input, options.fundamental, options.speed);
  const dataBytes = samples * BYTES_PER_SAMPLE;
  const synthesiser = new Synthesiser(segments);
  let header: Uint8Array | null = options.format === "wav" ? wavHeader(dataBytes) : null;
  const audio = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (header) {
          controller.enqueue(header);
          header = null;
          return;
        }
        const chunk = synthesiser.next(CHUNK_SAMPLES);
        if (chunk.byteLength > 0) controller.enqueue(chunk);
        else controller.close();
      },
    },
    { highWaterMark: 0 },
  );
  return { audio, bytes: dataBytes + (options.format === "wav" ? WAV_HEADER_BYTES : 0) };
}
